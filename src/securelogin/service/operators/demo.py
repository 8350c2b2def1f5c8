"""``securelogin demo``: a realistic demo brokerage, loaded through the import service.

Every device kind the server knows gets a demo user.  Seeds are drawn fresh for each
demo database; devices carry origin ``demo`` so that demo-only tools refuse real ones.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from securelogin.domain.cards import PrintableCard, generate_card
from securelogin.domain.devices.catalogue import DeviceState
from securelogin.domain.operators import Operator, Role
from securelogin.errors import Conflict
from securelogin.service.context import Services
from securelogin.service.importing import import_data
from securelogin.service.lifecycle import closure, documents
from securelogin.service.operators.operators import create_operator, reset_operator_totp

DEMO_PASSWORD = "Demo-Login-2026"  # noqa: S105 - printed for people trying the demo
DEMO_OPERATOR = "desk"


@dataclass(frozen=True, kw_only=True)
class DemoUser:
    username: str
    devices: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DemoReport:
    created: bool
    users: tuple[DemoUser, ...]
    password: str = DEMO_PASSWORD
    #: the code cards of a demo loaded by this run, for printing (values exist nowhere else)
    cards: tuple[PrintableCard, ...] = ()
    #: the demo operator's TOTP secret (otpauth URI): printed when the demo is loaded, and
    #: again (a new one) when a later run is asked to reset the enrolment
    operator_uri: str | None = None


def _hex(services: Services, n: int = 20) -> str:
    return services.random.token_bytes(n).hex()


def _card(services: Services, size: int = 200) -> dict[str, str]:
    return {str(p): v for p, v in generate_card(services.random.randbelow, positions=size).items()}


def _printable_cards(services: Services, data: dict[str, object]) -> tuple[PrintableCard, ...]:
    """The code cards of the demo file, ready to print (SPEC §8: "printed card PDFs")."""
    issued = services.clock.now().date()
    users = data["users"]
    assert isinstance(users, list)  # noqa: S101 - demo_data builds it
    return tuple(
        PrintableCard(
            serial=str(d["serial"]),
            holder=str(u["username"]),
            issued=issued,
            values={int(p): str(v) for p, v in d["values"].items()},
        )
        for u in users
        for d in u.get("devices", ())
        if d["kind"] in ("code_card", "online_code_card")
    )


def _letters(services: Services, n: int = 12) -> str:
    return "".join(chr(65 + services.random.randbelow(26)) for _ in range(n))


def _identification(n: int) -> dict[str, str]:
    return {
        "date_of_birth": f"198{n}-0{n}-1{n}",
        "citizenship": "US",
        "residence": "US",
        "document_type": "passport",
        "document_number": f"X100000{n}",
        "ssn": f"900-1{n}-000{n}",
    }


def demo_data(services: Services) -> tuple[dict[str, object], tuple[DemoUser, ...]]:
    """The demo file (SPEC §10.3 format) and who holds what."""
    people: list[tuple[str, str, list[dict[str, object]], str]] = [
        (
            "alice",
            "Alice Chen",
            [
                {
                    "kind": "dsc_plus",
                    "serial": "DEMO-DSCP-0001",
                    "secret_hex": _hex(services, 32),
                    "pin": "1234",
                },
                {"kind": "sms", "phone": "+15551230001"},
                {"kind": "code_card", "serial": "DEMO-SCC-0001", "values": _card(services)},
            ],
            "DSC+ PIN 1234",
        ),
        (
            "bob",
            "Bob Miller",
            [{"kind": "dsc", "serial": "DEMO-DSC-0001", "secret_hex": _hex(services)}],
            "",
        ),
        (
            "carol",
            "Carol Diaz",
            [{"kind": "platinum_card", "serial": "DEMO-PLAT-0001", "secret_hex": _hex(services)}],
            "",
        ),
        (
            "dave",
            "Dave Okafor",
            [{"kind": "gold_card", "serial": "DEMO-GOLD-0001", "secret_hex": _hex(services)}],
            "",
        ),
        (
            "erin",
            "Erin Novak",
            [
                {
                    "kind": "totp_app",
                    "serial": "DEMO-TOTP-0001",
                    "secret_base32": base64.b32encode(services.random.token_bytes(20)).decode(),
                }
            ],
            "any authenticator app",
        ),
        (
            "frank",
            "Frank Li",
            [{"kind": "sms", "phone": "+15551230006"}],
            "SMS; `securelogin demo` readies his mobile key",
        ),
        (
            "grace",
            "Grace Park",
            [{"kind": "code_card", "serial": "DEMO-SCC-0002", "values": _card(services)}],
            "security code card",
        ),
        (
            "ivan",
            "Ivan Petrov",
            [{"kind": "temporary_code", "serial": "DEMO-TEMP-0001", "code": _letters(services)}],
            "temporary code after a lost device",
        ),
        (
            "judy",
            "Judy Alvarez",
            [{"kind": "online_code_card", "serial": "DEMO-OSCC-0001", "values": _card(services)}],
            "online security code card",
        ),
    ]
    data: dict[str, list[object]] = {"entities": [], "accounts": [], "users": []}
    holders = []
    for n, (username, name, devices, note) in enumerate(people, start=1):
        data["entities"].append(
            {
                "id": f"DEMO-E{n}",
                "kind": "individual",
                "name": name,
                "identification": _identification(n),
            }
        )
        data["accounts"].append(
            {"id": f"U900000{n}", "entity": f"DEMO-E{n}", "cash": f"{n * 750_000}.00"}
        )
        data["users"].append(
            {
                "username": username,
                "entity": f"DEMO-E{n}",
                "password": DEMO_PASSWORD,
                "phone": f"+155512300{n:02d}",
                "grants": [
                    {"account": f"U900000{n}", "rights": ["trade", "withdraw", "security_settings"]}
                ],
                "devices": devices,
            }
        )
        holders.append(
            DemoUser(username=username, devices=tuple(str(d["kind"]) for d in devices), note=note)
        )
    data["users"].append(
        {
            "username": "henry",
            "entity": "DEMO-E1",
            "password": DEMO_PASSWORD,
            "opted_out": True,
            "grants": [{"account": "U9000001", "rights": ["trade"]}],
        }
    )
    holders.append(DemoUser(username="henry", devices=(), note="opted out; trade right only"))
    _add_closed_account_user(services, data, holders)
    return dict(data), tuple(holders)


def load_demo(services: Services, *, reset_operator: bool = False) -> DemoReport:
    """Import the demo once; a second run leaves the existing demo as it is, lists the
    devices its users hold now (a mobile key added since shows), and gives the demo
    operator a new TOTP enrolment when ``reset_operator`` (a lost authenticator entry)."""
    data, holders = demo_data(services)
    with services.uow() as uow:
        loaded = uow.users.by_username("alice") is not None
    if not loaded:
        try:
            import_data(services, data, actor="demo", origin="demo")
        except Conflict:
            loaded = True
    if loaded:
        uri = None
        if reset_operator:
            uri = reset_operator_totp(services, DEMO_OPERATOR, actor="demo").otpauth_uri
        return DemoReport(created=False, users=held_now(services, holders), operator_uri=uri)
    desk = create_operator(
        services,
        username=DEMO_OPERATOR,
        password=DEMO_PASSWORD,
        roles=frozenset(Role),
        actor="demo",
    )
    _close_demo_account(services, data)
    return DemoReport(
        created=True,
        users=holders,
        cards=_printable_cards(services, data),
        operator_uri=desk.otpauth_uri,
    )


def held_now(services: Services, holders: tuple[DemoUser, ...]) -> tuple[DemoUser, ...]:
    """The demo users with the kinds of the devices they hold active today."""
    now: list[DemoUser] = []
    with services.uow() as uow:
        for holder in holders:
            user = uow.users.by_username(holder.username)
            if user is None:
                now.append(holder)
                continue
            active = uow.lifecycle.devices_of(user.id)
            kinds = tuple(d.kind for d in active if d.state == DeviceState.ACTIVE)
            now.append(DemoUser(username=holder.username, devices=kinds, note=holder.note))
    return tuple(now)


#: R-CLOSE-1, R-LOGIN-8: a user whose only account is closed (documents only)
CLOSED_USER = "kate"
CLOSED_ACCOUNT = "U9000010"


def _add_closed_account_user(
    services: Services, data: dict[str, list[object]], holders: list[DemoUser]
) -> None:
    data["entities"].append(
        {
            "id": "DEMO-E10",
            "kind": "individual",
            "name": "Kate Moreau",
            "identification": {
                "date_of_birth": "1979-10-10",
                "citizenship": "FR",
                "residence": "FR",
                "document_type": "passport",
                "document_number": "X1000010",
            },
        }
    )
    data["accounts"].append({"id": CLOSED_ACCOUNT, "entity": "DEMO-E10", "cash": "12500.00"})
    data["users"].append(
        {
            "username": CLOSED_USER,
            "entity": "DEMO-E10",
            "password": DEMO_PASSWORD,
            "grants": [{"account": CLOSED_ACCOUNT, "rights": ["trade", "withdraw"]}],
            "devices": [{"kind": "dsc", "serial": "DEMO-DSC-0002", "secret_hex": _hex(services)}],
        }
    )
    holders.append(
        DemoUser(username=CLOSED_USER, devices=(), note="account closed: documents only")
    )


def _close_demo_account(services: Services, data: dict[str, object]) -> None:
    """R-CLOSE-1, R-LOGIN-8: kate's account is closed (final statement) plus a tax form."""
    account = CLOSED_ACCOUNT
    admin = Operator(id=0, username="demo", roles=frozenset({Role.ADMIN}))
    closure.close_account(services, admin, account=account)
    documents.generate(services, admin, account=account, kind="tax_form", period="2025")


def describe(
    report: DemoReport,
    *,
    url: str,
    cards_folder: str | None = None,
    command: str = "securelogin",
) -> str:
    """What a person needs to try the demo; ``command`` is how to run ``securelogin`` here
    (``.venv/bin/securelogin`` after ``make serve``), in a second terminal."""
    lines = [f"securelogin demo at {url}", "demo users (password " + report.password + "):"]
    for u in report.users:
        kinds = ", ".join(u.devices) or "no device"
        lines.append(f"  {u.username:<6} {kinds}" + (f"  ({u.note})" if u.note else ""))
    if cards_folder is not None:
        holders = ", ".join(
            u.username for u in report.users if {"code_card", "online_code_card"} & set(u.devices)
        )
        lines.append(f"printable code cards ({holders}): {cards_folder}")
    lines.append(
        f"in a second terminal, play a demo card or token: {command} admin demo-device SERIAL"
        " [CHALLENGE] (serials DEMO-DSCP-0001, DEMO-DSC-0001, DEMO-PLAT-0001, DEMO-GOLD-0001,"
        f" DEMO-TOTP-0001, DEMO-TEMP-0001); SMS codes: {command} admin outbox"
    )
    console = (
        f"operator console {url.rstrip('/')}/console: {DEMO_OPERATOR} (password "
        f"{report.password}, every role); "
    )
    if report.operator_uri is not None:
        lines.append(
            console + "add this TOTP secret to an authenticator app (shown once, "
            f"or e.g. oathtool --totp -b SECRET): {report.operator_uri}"
        )
    else:
        lines.append(
            console + "its TOTP secret was shown when the demo was loaded; to enrol an "
            f"authenticator again (prints a new one): {command} demo --reset-operator --no-serve"
        )
    if not report.created:
        lines.append("(the demo was already loaded in this database)")
    return "\n".join(lines)
