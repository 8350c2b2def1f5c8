"""The people of the security-settings tests: one entity with several users, a second
entity with the same identification data, and a stranger (SPEC §5.1, §5.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from securelogin.domain.operators import Operator, Role
from securelogin.service import importing
from securelogin.service.ceremony.factors import FactorView
from securelogin.service.context import Services
from securelogin.service.login_ports import DeviceRow
from tests.devices import CARD, KINDS, PASSWORD, SEED20, SEED32, TEMP_CODE

ALICE_ID = {
    "date_of_birth": "1980-01-02",
    "citizenship": "US",
    "residence": "US",
    "ssn": "123-45-6789",
}
CORA = Operator(id=1, username="cora", roles=frozenset({Role.COMPLIANCE}))
HELEN = Operator(id=2, username="helen", roles=frozenset({Role.HELPDESK}))

RIGHTS = ["trade", "withdraw", "security_settings"]


def dsc_plus(serial: str) -> dict[str, Any]:
    return {"kind": "dsc_plus", "serial": serial, "secret_hex": SEED32.hex(), "pin": "4821"}


def dsc(serial: str) -> dict[str, Any]:
    return {"kind": "dsc", "serial": serial, "secret_hex": SEED20.hex()}


def code_card(serial: str) -> dict[str, Any]:
    return {"kind": "code_card", "serial": serial, "values": CARD}


def sms() -> dict[str, Any]:
    return {"kind": "sms", "phone": "+15551230089"}


def temporary() -> dict[str, Any]:
    return {"kind": "temporary_code", "code": TEMP_CODE}


def user(
    name: str,
    entity: str,
    account: str,
    *devices: dict[str, Any],
    rights: list[str] | None = None,
    opted_out: bool = False,
) -> dict[str, Any]:
    return {
        "username": name,
        "entity": entity,
        "password": PASSWORD,
        "phone": "+15551230089",
        "opted_out": opted_out,
        "grants": [{"account": account, "rights": RIGHTS if rights is None else rights}],
        "devices": list(devices),
    }


def load(services: Services, *users: dict[str, Any], extra_grants: bool = False) -> None:
    """Entities: E-A (Alice), E-T (a trust with Alice's identification data), E-B (Bob)."""
    data: dict[str, Any] = {
        "entities": [
            {"id": "E-A", "name": "Alice Chen", "identification": ALICE_ID},
            {"id": "E-T", "name": "Chen Family Trust", "identification": ALICE_ID},
            {"id": "E-B", "name": "Bob Ray", "identification": {"ssn": "987-65-4321"}},
        ],
        "accounts": [
            {"id": "U1000001", "entity": "E-A", "cash": "1000.00"},
            {"id": "U1000002", "entity": "E-A", "cash": "1000.00"},
            {"id": "U2000001", "entity": "E-T", "cash": "1000.00"},
            {"id": "U3000001", "entity": "E-B", "cash": "1000.00"},
        ],
        "users": list(users),
    }
    importing.import_data(services, data)


def answer(services: Services, factor: FactorView, device: DeviceRow | str, at: datetime) -> str:
    """What the owner's device shows for this prompt."""
    kind = device if isinstance(device, str) else device.kind
    return KINDS[kind].answer(dict(factor.prompt.as_json()), at, services)


def user_id(services: Services, name: str) -> int:
    with services.uow() as uow:
        found = uow.users.by_username(name)
        assert found is not None
        return found.id


def devices_of(services: Services, name: str) -> list[DeviceRow]:
    found = user_id(services, name)
    with services.uow() as uow:
        return uow.device_access.of_user(found)


__all__ = ["PASSWORD"]
