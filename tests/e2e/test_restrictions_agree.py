"""R-WD-4 / R-RESTRICT-1: the restrictions API and the withdrawal API always agree — a
property over every device kind (passkeys through a software authenticator), no device
at all, and both opt-out states, with what was already withdrawn today or the business
day before drawn by hypothesis.

For each case: the limits reported are the SPEC §2 figures of the tier (rank 0 when
opted out or holding nothing, R-LIMIT-1); a withdrawal one cent above what the
restrictions API says is left is refused by the rule it names, with the same figures;
one just at it is booked, confirmed by the device — or by the password without one —
and leaves exactly nothing.  In process (the ASGI app) on SQLite, with the injected
clock (Mondays of November–December 2026, New York)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securelogin.bootstrap import bootstrap
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.domain.devices.registry import MOBILE_KEY_SUITE
from securelogin.entrypoints.api.app import create_app
from securelogin.service import importing, sessions
from securelogin.service.context import Services
from securelogin.service.funds import service_keys
from securelogin.service.login import login, passkeys
from securelogin.service.ports import NewDevice
from tests.conftest import make_settings
from tests.dbutil import execute, url_of
from tests.devices import KINDS, PASSWORD, SEED32
from tests.fakes import FakeClock
from tests.webauthn_kit import SoftAuthenticator
from tests.withdrawal_kit import bearer

#: SPEC §2, by rank: (daily, 5-business-day) in USD; None = unlimited
SPEC_LIMITS: dict[int, tuple[str | None, str | None]] = {
    0: ("50000.00", "100000.00"),
    1: ("200000.00", "600000.00"),
    2: ("1000000.00", "1000000.00"),
    3: ("1000000.00", "1500000.00"),
    4: (None, None),
}
RANKS = {**{kind: setup.rank for kind, setup in KINDS.items()}, "mobile_key": 2, "passkey": 2}
#: what the user holds: nothing, or one device of each kind with a plug-in
HOLDINGS = [None, *sorted(RANKS)]
CASH = Decimal("3000000.00")  # above every finite limit: the limits decide, not the funds
CENT = Decimal("0.01")
DESTINATION = "Chase ****1234"
_numbers = itertools.count(1)
#: the software authenticator of each passkey holder (tests/webauthn_kit.py)
_authenticators: dict[str, SoftAuthenticator] = {}


@pytest.fixture
def app(sqlite_url: str, clock: FakeClock) -> Iterator[tuple[Services, TestClient, str]]:
    services = bootstrap(make_settings(sqlite_url), clock=clock)
    key = service_keys.create_service_key(services, "funding-system")
    with TestClient(create_app(services)) as client:
        yield services, client, key
    services.database.close()


def brokerage(services: Services, holding: str | None, opted_out: bool) -> str:
    """A fresh entity, account and user (examples share one database)."""
    n = next(_numbers)
    username, account = f"agree{n}", f"U9{n:06d}"
    devices = []
    if holding == "passkey":  # registered after a login with the SMS device it also holds
        devices.append(dict(KINDS["sms"].device))
    if holding in KINDS:
        device = dict(KINDS[holding].device)
        if "serial" in device:
            device["serial"] = f"{device['serial']}-A{n}"
        devices.append(device)
    importing.import_data(
        services,
        {
            "entities": [
                {
                    "id": f"EA-{n}",
                    "name": "Agree",
                    "identification": {"ssn": f"900-{n // 10000 % 100:02d}-{n % 10000:04d}"},
                }
            ],
            "accounts": [{"id": account, "entity": f"EA-{n}", "cash": str(CASH)}],
            "users": [
                {
                    "username": username,
                    "entity": f"EA-{n}",
                    "password": PASSWORD,
                    "phone": "+15551230089",
                    "opted_out": opted_out,
                    "devices": devices,
                    "grants": [
                        {"account": account, "rights": ["trade", "withdraw", "security_settings"]}
                    ],
                }
            ],
        },
    )
    if holding == "mobile_key":
        give_mobile_key(services, username, f"dv_agree_{n}")
    if holding == "passkey":
        _authenticators[username] = give_passkey(services, username)
    return username


def give_passkey(services: Services, username: str) -> SoftAuthenticator:
    """A passkey registered in a session opened with the user's SMS device; it is then
    the user's strongest device (rank 2)."""
    token = log_in(services, username, "sms")
    current = sessions.authenticate(services, token)
    key = SoftAuthenticator()
    options = passkeys.start_registration(services, current)
    passkeys.finish_registration(
        services,
        current,
        registration_id=options.registration_id,
        credential=key.create(dict(options.options)),
    )
    return key


def give_mobile_key(services: Services, username: str, public_id: str) -> None:
    """An active mobile key with a known OCRA secret and no app: it answers with its
    offline challenge (R-KEY-5)."""
    now = services.clock.now()
    with services.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        uow.devices.add(
            NewDevice(
                public_id=public_id,
                kind="mobile_key",
                owner_id=user.id,
                state="active",
                secret=services.box.seal(SEED32, context=f"device:{public_id}"),
                origin="test",
            ),
            at=now,
        )
        uow.commit()
    execute(
        url_of(services),
        "UPDATE devices SET activated_at = created_at WHERE public_id = :p",
        p=public_id,
    )


def respond(
    services: Services, holding: str | None, prompt: dict[str, Any], username: str = ""
) -> str:
    """The device's answer to ``prompt`` (a fresh 30-second step for TOTP kinds)."""
    clock = services.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=31)
    if prompt["type"] == "password":
        return PASSWORD
    if holding == "mobile_key":
        return otp.ocra(MOBILE_KEY_SUITE, SEED32, question=prompt["challenge"])
    if prompt["type"] == "passkey":
        return _authenticators[username].get(str(prompt["challenge"]))
    assert holding is not None
    return KINDS[holding].answer(prompt, services.clock.now(), services)


def log_in(services: Services, username: str, holding: str | None) -> str:
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    if started.session is not None:  # opted out, nothing held: the password alone
        return started.session.token
    assert started.factor is not None
    response = respond(services, holding, started.factor.prompt.as_json(), username)
    return login.answer_login(services, started.login_id, response).token


def ask(client: TestClient, token: str, account: str, amount: Decimal) -> Any:
    return client.post(
        "/api/v1/withdrawals",
        json={"account": account, "amount": str(amount), "destination": DESTINATION},
        headers=bearer(token) | {"Idempotency-Key": f"k-{next(_numbers)}"},
    )


def book(
    services: Services,
    client: TestClient,
    token: str,
    account: str,
    holding: str | None,
    amount: Decimal,
    username: str,
) -> Any:
    """Ask and confirm; a request refused at once is that refusal."""
    started = ask(client, token, account, amount)
    if started.status_code == 422:
        return started
    assert started.status_code == 201, started.json()
    body = started.json()
    return client.post(
        f"/api/v1/withdrawals/{body['withdrawal_id']}/confirm",
        json={"response": respond(services, holding, body["factor"]["prompt"], username)},
        headers=bearer(token),
    )


def usd(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@pytest.mark.parametrize(
    ("holding", "opted_out"),
    [
        pytest.param(h, o, id=f"{h or 'nothing'}-{'opted_out' if o else 'participant'}")
        for h in HOLDINGS
        for o in (False, True)
        # a participant holding nothing cannot log in to the portal (R-LOGIN-4)
        if h is not None or o
    ],
)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    already=st.decimals(min_value=0, max_value=700000, places=2),
    yesterday=st.booleans(),
)
def test_R_WD_4_what_the_restrictions_api_reports_is_exactly_what_a_withdrawal_can_book(
    app: tuple[Services, TestClient, str],
    clock: FakeClock,
    holding: str | None,
    opted_out: bool,
    already: Decimal,
    yesterday: bool,
) -> None:
    services, client, key = app
    monday = clock.now().replace(hour=15, minute=0, second=0, microsecond=0)
    clock.set(monday + timedelta(days=(7 - monday.weekday()) % 7 or 7))  # the next Monday
    username = brokerage(services, holding, opted_out)
    token = log_in(services, username, holding)
    said = client.get(f"/api/v1/users/{username}/restrictions", headers=bearer(key)).json()
    rank = 0 if opted_out or holding is None else RANKS[holding]
    assert said["tier"]["rank"] == rank
    assert (said["limits"]["daily"], said["limits"]["five_day"]) == SPEC_LIMITS[rank]
    (account,) = said["accounts"]
    if already > 0:  # booked, or refused by a limit: either way both APIs see the same
        book(services, client, token, account["account"], holding, already, username)
    if yesterday:
        clock.advance(days=1)  # Tuesday: yesterday's withdrawal counts in the window only
        token = log_in(services, username, holding)  # the idle timeout ended the session

    said = client.get(f"/api/v1/users/{username}/restrictions", headers=bearer(key)).json()
    (account,) = said["accounts"]
    number, remaining = account["account"], account["remaining"]
    today, window = usd(remaining["today"]), usd(remaining["window"])
    finite = [v for v in (today, window) if v is not None]
    if not finite:  # unlimited: only the funds bind
        refused = ask(client, token, number, Decimal(account["available"]) + CENT)
        assert refused.json()["code"] == "insufficient_funds"
        done = book(services, client, token, number, holding, Decimal("1500000.01"), username)
        assert done.json()["status"] == "accepted", done.json()
        assert done.json()["remaining"] == {"today": None, "window": None}
        return
    edge = min(finite)
    above = ask(client, token, number, edge + CENT)
    assert above.status_code == 422
    expected = "daily_limit_exceeded" if today is not None and edge == today else None
    assert above.json()["code"] == (expected or "five_day_limit_exceeded")
    assert above.json()["remaining"] == remaining
    if edge == 0:
        return
    done = book(services, client, token, number, holding, edge, username)
    assert done.status_code == 200 and done.json()["status"] == "accepted", done.json()
    left = done.json()["remaining"]
    assert Decimal(0) in (usd(left["today"]), usd(left["window"]))
    after = client.get(f"/api/v1/users/{username}/restrictions", headers=bearer(key)).json()
    assert after["accounts"][0]["remaining"] == left
