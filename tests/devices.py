"""Test devices: import one user per device kind and play the device's side of a login.

``Player.answer(prompt, at)`` computes what a real card, token or phone would show for
a prompt, from the secrets the test imported, with the RFC algorithms of domain.otp.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from securelogin.domain import otp
from securelogin.domain.devices.registry import DSC_PLUS_SUITE, LEGACY_CARD_SUITE
from securelogin.service import importing
from securelogin.service.context import Services

PASSWORD = "Correct-Horse-7"
SEED20 = bytes(range(1, 21))
SEED32 = bytes(range(1, 33))
CARD = {str(i): f"{chr(65 + i % 26)}{i % 10}{chr(90 - i % 26)}" for i in range(1, 201)}
TOTP_B32 = base64.b32encode(SEED20).decode()
TEMP_CODE = "QWERTYUIOPAS"
PHONE = "+15551230089"


@dataclass(frozen=True, kw_only=True)
class KindSetup:
    kind: str
    device: dict[str, Any]
    answer: Callable[[dict[str, Any], datetime, Services], str]
    rank: int
    prompt_type: str


def _totp(seed: bytes) -> Callable[[dict[str, Any], datetime, Services], str]:
    return lambda prompt, at, services: otp.totp(seed, at=at.timestamp())


def _ocra(suite: str, seed: bytes, pin: str | None = None) -> Callable[..., str]:
    return lambda prompt, at, services: otp.ocra(suite, seed, question=prompt["challenge"], pin=pin)


def _card(prompt: dict[str, Any], at: datetime, services: Services) -> str:
    first, second = prompt["indices"]
    return f"{CARD[str(first)]} {CARD[str(second)].lower()}"  # spaces and case are ignored


def _sms(prompt: dict[str, Any], at: datetime, services: Services) -> str:
    from securelogin.service.notifications import recent_messages

    text = recent_messages(services, to=PHONE, limit=50)[-1].text
    return text.split()[0]


def _temp(prompt: dict[str, Any], at: datetime, services: Services) -> str:
    return TEMP_CODE.lower()


KINDS: dict[str, KindSetup] = {
    k.kind: k
    for k in [
        KindSetup(
            kind="dsc",
            device={"kind": "dsc", "serial": "T-DSC", "secret_hex": SEED20.hex()},
            answer=_totp(SEED20),
            rank=3,
            prompt_type="code",
        ),
        KindSetup(
            kind="dsc_plus",
            device={
                "kind": "dsc_plus",
                "serial": "T-DSCP",
                "secret_hex": SEED32.hex(),
                "pin": "4821",
            },
            answer=_ocra(DSC_PLUS_SUITE, SEED32, "4821"),
            rank=4,
            prompt_type="challenge",
        ),
        KindSetup(
            kind="platinum_card",
            device={"kind": "platinum_card", "serial": "T-PLAT", "secret_hex": SEED20.hex()},
            answer=_ocra(LEGACY_CARD_SUITE, SEED20),
            rank=4,
            prompt_type="challenge",
        ),
        KindSetup(
            kind="gold_card",
            device={"kind": "gold_card", "serial": "T-GOLD", "secret_hex": SEED20.hex()},
            answer=_ocra(LEGACY_CARD_SUITE, SEED20),
            rank=4,
            prompt_type="challenge",
        ),
        KindSetup(
            kind="code_card",
            device={"kind": "code_card", "serial": "T-SCC", "values": CARD},
            answer=_card,
            rank=1,
            prompt_type="card",
        ),
        KindSetup(
            kind="online_code_card",
            device={"kind": "online_code_card", "values": CARD},
            answer=_card,
            rank=1,
            prompt_type="card",
        ),
        KindSetup(
            kind="sms",
            device={"kind": "sms", "phone": PHONE},
            answer=_sms,
            rank=1,
            prompt_type="sms",
        ),
        KindSetup(
            kind="totp_app",
            device={"kind": "totp_app", "secret_base32": TOTP_B32},
            answer=_totp(SEED20),
            rank=1,
            prompt_type="code",
        ),
        KindSetup(
            kind="temporary_code",
            device={"kind": "temporary_code", "code": TEMP_CODE},
            answer=_temp,
            rank=0,
            prompt_type="code",
        ),
    ]
}


@dataclass
class Brokerage:
    """A tiny brokerage for tests: one entity and account per user."""

    users: list[dict[str, Any]] = field(default_factory=list)

    def user(
        self,
        username: str,
        *devices: dict[str, Any],
        opted_out: bool = False,
        rights: tuple[str, ...] = ("trade", "withdraw", "security_settings"),
        phone: str | None = PHONE,
    ) -> Brokerage:
        self.users.append(
            {
                "username": username,
                "devices": list(devices),
                "opted_out": opted_out,
                "rights": list(rights),
                "phone": phone,
            }
        )
        return self

    def data(self) -> dict[str, Any]:
        entities, accounts, users = [], [], []
        for n, u in enumerate(self.users, start=1):
            entities.append(
                {
                    "id": f"E-{n}",
                    "name": u["username"].title(),
                    "identification": {"ssn": f"900-00-{n:04d}"},
                }
            )
            accounts.append({"id": f"U{7000000 + n}", "entity": f"E-{n}", "cash": "100000.00"})
            user = {
                "username": u["username"],
                "entity": f"E-{n}",
                "password": PASSWORD,
                "opted_out": u["opted_out"],
                "devices": u["devices"],
                "grants": [{"account": f"U{7000000 + n}", "rights": u["rights"]}],
            }
            if u["phone"]:
                user["phone"] = u["phone"]
            users.append(user)
        return {"entities": entities, "accounts": accounts, "users": users}

    def load(self, services: Services) -> None:
        importing.import_data(services, self.data())
