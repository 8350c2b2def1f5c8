"""The lost-device story for tests (issue 6): a brokerage user who lost a DSC+, the
helpdesk that issues the temporary code, logistics with a DSC+ in stock, and logins."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.devices.registry import DSC_PLUS_SUITE
from securelogin.domain.importfile import DeviceSpec
from securelogin.domain.operators import Operator, Role
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.importing import seal_device
from securelogin.service.login import login
from securelogin.service.operators import helpdesk, operators
from securelogin.service.sessions import CurrentSession
from tests.devices import PASSWORD, SEED32, Brokerage

USER = "lena"
LOST_SERIAL = "DSCP-LOST-1"
NEW_SERIAL = "DSCP-NEW-1"
NEW_SEED = bytes(range(101, 133))
SOFT_PIN = "2468"
LOGISTICS = Operator(id=0, username="lara", roles=frozenset({Role.LOGISTICS}))
ADMIN = Operator(id=0, username="ada", roles=frozenset({Role.ADMIN}))


@dataclass
class Story:
    services: Services
    helpdesk: Operator
    temporary_code: str
    lost_device_id: str


def device_id_of(services: Services, username: str, kind: str) -> str:
    with services.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        rows = [d for d in uow.device_access.of_user(user.id) if d.kind == kind]
    return rows[-1].public_id


def device_state(services: Services, public_id: str) -> str:
    with services.uow() as uow:
        row = uow.lifecycle.device_by_public_id(public_id)
        assert row is not None
        return row.state


def stock_dsc_plus(services: Services, serial: str = NEW_SERIAL) -> None:
    device = seal_device(
        services,
        DeviceSpec(kind=DeviceKind.DSC_PLUS, serial=serial, secret=NEW_SEED),
        owner_id=None,
        origin="pskc",
    )
    with services.uow() as uow:
        uow.inventory.add_stock(
            replace(device, state=DeviceState.IN_STOCK), at=services.clock.now()
        )
        uow.commit()


def lose_device(services: Services, *, username: str = USER, extra: Any = ()) -> Story:
    """Day 0: the user calls, the helpdesk verifies them, marks the DSC+ lost and issues a
    temporary code (R-LOST-1, engineer A's helpdesk)."""
    Brokerage().user(
        username,
        {"kind": "dsc_plus", "serial": LOST_SERIAL, "secret_hex": SEED32.hex(), "pin": "4821"},
        *extra,
    ).load(services)
    hana = operators.create_operator(
        services, username="hana", password="Helpdesk-Pass-2026", roles=frozenset({Role.HELPDESK})
    ).operator
    helpdesk.verify_identity(services, hana, username=username, method="callback")
    lost = device_id_of(services, username, "dsc_plus")
    helpdesk.mark_device(services, hana, username=username, device_id=lost, state="lost")
    code = helpdesk.issue_temporary_code(services, hana, username=username).code
    return Story(services=services, helpdesk=hana, temporary_code=code, lost_device_id=lost)


def log_in(services: Services, answer: Any, username: str = USER) -> sessions.SessionGrant:
    """A portal login; ``answer(prompt)`` plays the device."""
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    if started.session is not None:
        return started.session
    assert started.factor is not None
    return login.answer_login(services, started.login_id, answer(started.factor.prompt))


def current(services: Services, grant: sessions.SessionGrant) -> CurrentSession:
    return sessions.authenticate(services, grant.token)


def card_answer(values: dict[int, str], indices: tuple[int, int] | None) -> str:
    assert indices is not None
    return values[indices[0]] + values[indices[1]]


def dsc_plus_answer(challenge: str | None, pin: str = SOFT_PIN) -> str:
    assert challenge is not None
    return otp.ocra(DSC_PLUS_SUITE, NEW_SEED, question=challenge, pin=pin)
