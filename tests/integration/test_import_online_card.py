"""An online security code card that arrives by ``admin import`` expires as one issued in
the portal does (R-LOST-2: valid 21 days), or when the import file says (SPEC §10.3)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.errors import ImportRejected
from securelogin.service.context import Services
from tests.dbutil import snapshot, url_of
from tests.devices import CARD, PASSWORD, Brokerage
from tests.fakes import FakeClock


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Expiry is a rule of the service and the login, not of a storage engine."""
    return sqlite_url


def online_card(**extra: Any) -> dict[str, Any]:
    return {"kind": "online_code_card", "values": CARD} | extra


def log_in(api: TestClient) -> Any:
    started = api.post("/api/v1/logins", json={"username": "ada", "password": PASSWORD})
    body = started.json()
    if started.status_code != 201:
        return body
    first, second = body["factor"]["prompt"]["indices"]
    answer = CARD[str(first)] + CARD[str(second)]
    return api.post(f"/api/v1/logins/{body['login_id']}/answer", json={"response": answer}).json()


def test_R_LOST_2_an_imported_online_card_ends_21_days_after_the_import(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    Brokerage().user("ada", online_card(), phone=None).load(services)
    clock.advance(days=20, hours=23)
    session = log_in(api)["session"]
    assert session["access_level"] == "full"
    assert session["tier"]["device_kind"] == "online_code_card"
    clock.advance(hours=1)
    refused = log_in(api)
    assert "session" not in refused, refused


def test_R_LOST_2_an_imported_online_card_ends_when_the_import_file_says(
    services: Services, api: TestClient, clock: FakeClock
) -> None:
    Brokerage().user("ada", online_card(expires_at="2026-11-30T15:00:00Z"), phone=None).load(
        services
    )
    clock.set(clock.now().replace(day=30, hour=14, minute=59))
    assert log_in(api)["session"]["access_level"] == "full"
    clock.advance(minutes=1)
    assert "session" not in log_in(api)


@pytest.mark.parametrize(
    ("device", "problem"),
    [
        (online_card(expires_at="2026-11-01T00:00:00Z"), "has already passed"),
        (online_card(expires_at="2026-12-01"), "with a time zone"),
        (online_card(expires_at="next week"), "ISO 8601"),
        (
            {"kind": "code_card", "serial": "SCC-1", "values": CARD, "expires_at": "2027-01-01"},
            "only an online_code_card expires",
        ),
    ],
)
def test_R_LOST_2_an_expiry_that_cannot_hold_refuses_the_whole_import(
    services: Services, device: dict[str, Any], problem: str
) -> None:
    before = snapshot(url_of(services))
    with pytest.raises(ImportRejected, match=problem) as refused:
        Brokerage().user("ada", device, phone=None).load(services)
    assert (refused.value.field or "").endswith("expires_at")
    assert snapshot(url_of(services)) == before
