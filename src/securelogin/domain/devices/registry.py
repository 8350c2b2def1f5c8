"""The explicit registry of device kinds (STYLE.md rule 4): kind → plug-in."""

from __future__ import annotations

from collections.abc import Mapping

from securelogin.domain.devices.base import DeviceKindPlugin
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.challenges import CardKind, OcraKind
from securelogin.domain.devices.codes import SmsKind, TemporaryCodeKind, TotpKind
from securelogin.domain.devices.mobile_key import MobileKeyKind
from securelogin.domain.devices.passkey import PasskeyKind

#: SPEC §2 "Algorithms"
DSC_PLUS_SUITE = "OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
LEGACY_CARD_SUITE = "OCRA-1:HOTP-SHA1-8:QN08"
MOBILE_KEY_SUITE = "OCRA-1:HOTP-SHA256-8:QN06"

PLUGINS: Mapping[DeviceKind, DeviceKindPlugin] = {
    DeviceKind.DSC: TotpKind(DeviceKind.DSC),
    DeviceKind.TOTP_APP: TotpKind(DeviceKind.TOTP_APP),
    DeviceKind.SMS: SmsKind(),
    DeviceKind.TEMPORARY_CODE: TemporaryCodeKind(),
    DeviceKind.DSC_PLUS: OcraKind(DeviceKind.DSC_PLUS, DSC_PLUS_SUITE),
    DeviceKind.PLATINUM_CARD: OcraKind(DeviceKind.PLATINUM_CARD, LEGACY_CARD_SUITE),
    DeviceKind.GOLD_CARD: OcraKind(DeviceKind.GOLD_CARD, LEGACY_CARD_SUITE),
    DeviceKind.CODE_CARD: CardKind(DeviceKind.CODE_CARD),
    DeviceKind.ONLINE_CODE_CARD: CardKind(DeviceKind.ONLINE_CODE_CARD),
    DeviceKind.MOBILE_KEY: MobileKeyKind(MOBILE_KEY_SUITE),
    DeviceKind.PASSKEY: PasskeyKind(),
}

#: the mobile key's offline fallback (R-KEY-5, R-LOGIN-5)
MOBILE_KEY = MobileKeyKind(MOBILE_KEY_SUITE)


def plugin_for(kind: DeviceKind) -> DeviceKindPlugin:
    try:
        return PLUGINS[kind]
    except KeyError:
        raise LookupError(f"no plug-in for device kind {kind}") from None
