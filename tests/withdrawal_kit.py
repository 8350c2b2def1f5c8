"""Test kit for withdrawals: a brokerage with chosen cash, sessions by device kind, and
the device's side of a withdrawal prompt (tests/devices.py players)."""

from __future__ import annotations

from typing import Any

from securelogin.domain.access import Platform
from securelogin.service import importing
from securelogin.service.context import Services
from securelogin.service.login import login
from tests.devices import KINDS, PASSWORD

ACCOUNT = "U8000001"


def load(
    services: Services,
    users: dict[str, list[str]],
    *,
    cash: str = "1000000.00",
    opted_out: frozenset[str] = frozenset(),
    rights: dict[str, list[str]] | None = None,
    extra_accounts: dict[str, str] | None = None,
) -> None:
    """One entity and account ``U8000001``; each user holds the devices of the kinds
    named (serials made unique per user) and a grant on the account."""
    accounts = [{"id": ACCOUNT, "entity": "E-1", "cash": cash}]
    for number, amount in (extra_accounts or {}).items():
        accounts.append({"id": number, "entity": "E-1", "cash": amount})
    data: dict[str, Any] = {
        "entities": [
            {"id": "E-1", "name": "Funding Test", "identification": {"ssn": "900-00-0001"}}
        ],
        "accounts": accounts,
        "users": [],
    }
    for n, (username, kinds) in enumerate(users.items()):
        devices = []
        for kind in kinds:
            device = dict(KINDS[kind].device)
            if "serial" in device:
                device["serial"] = f"{device['serial']}-{n}"
            devices.append(device)
        granted = (rights or {}).get(username, ["trade", "withdraw", "security_settings"])
        data["users"].append(
            {
                "username": username,
                "entity": "E-1",
                "password": PASSWORD,
                "phone": "+15551230089",
                "opted_out": username in opted_out,
                "devices": devices,
                "grants": [{"account": a["id"], "rights": granted} for a in accounts],
            }
        )
    importing.import_data(services, data)


def answer(services: Services, kind: str, prompt: dict[str, Any]) -> str:
    return KINDS[kind].answer(prompt, services.clock.now(), services)


def session_token(services: Services, username: str, kind: str) -> str:
    """Log in with the device of ``kind`` (picked explicitly) and return the token."""
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None
    if started.factor.kind != kind:
        devices = login.login_devices(services, started.login_id)
        wanted = next(d.device_id for d in devices if d.kind == kind)
        factor = login.switch_device(services, started.login_id, wanted)
    else:
        factor = started.factor
    grant = login.answer_login(
        services, started.login_id, answer(services, kind, factor.prompt.as_json())
    )
    return grant.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
