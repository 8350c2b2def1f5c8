"""The one decision per device that account closure and its console preview share
(R-CLOSE-1, R-RETURN-3/4): ``domain.lifecycle.settle_on_close``."""

from __future__ import annotations

import pytest

from securelogin.domain.devices.catalogue import DEFAULT_CATALOGUE, DeviceKind, DeviceState
from securelogin.domain.lifecycle import Settlement, settle_on_close

K, S, T = DeviceKind, DeviceState, Settlement


@pytest.mark.parametrize(
    ("kind", "state", "expected"),
    [
        (K.DSC_PLUS, S.ACTIVE, T.RETURN),
        (K.DSC, S.SHIPPED, T.RETURN),
        (K.DSC, S.DAMAGED, T.RETURN),
        (K.DSC_PLUS, S.ORDERED, T.REVOKE),  # never left the warehouse
        (K.DSC_PLUS, S.LOST, T.TAKE_DEPOSIT),
        (K.PLATINUM_CARD, S.STOLEN, T.TAKE_DEPOSIT),
        (K.CODE_CARD, S.ACTIVE, T.SHRED),
        (K.MOBILE_KEY, S.ACTIVE, T.REVOKE),
        (K.SMS, S.ACTIVE, T.REVOKE),
        (K.DSC, S.RETURNED, T.NOTHING),
        (K.DSC, S.RETURN_PENDING, T.NOTHING),
        (K.SMS, S.REVOKED, T.NOTHING),
    ],
)
def test_R_CLOSE_1_each_device_is_settled_once_by_kind_and_state(
    kind: DeviceKind, state: DeviceState, expected: Settlement
) -> None:
    assert settle_on_close(kind, state, DEFAULT_CATALOGUE[kind]) is expected
