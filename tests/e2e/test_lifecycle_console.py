"""The logistics pages of the operator console over HTTP (R-OPS-3, R-LOST-4, R-RETURN-2):
assign a device by serial, mark it shipped, record a return; roles and CSRF enforced."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from securelogin.domain.access import AccessLevel
from securelogin.domain.operators import Role
from securelogin.entrypoints.web.words import lifecycle as words
from securelogin.service.context import Services
from securelogin.service.lifecycle import replacement, returns
from securelogin.service.sessions import CurrentSession, Tier
from tests.dbutil import scalar, url_of
from tests.devices import Brokerage
from tests.e2e.portal_forms import csrf_of
from tests.e2e.test_console import console_login, enrol
from tests.fakes import FakeClock
from tests.lifecycle_kit import LOGISTICS, NEW_SERIAL, SOFT_PIN, stock_dsc_plus


def test_lifecycle_words_exist_in_english_and_chinese() -> None:
    assert words.EN.keys() == words.ZH_CN.keys()


def replacement_requested(services: Services, clock: FakeClock) -> str:
    Brokerage().user("remy").load(services)
    with services.uow() as uow:
        user = uow.users.by_username("remy")
    assert user is not None
    session = CurrentSession(
        session_id=0,
        user_id=user.id,
        access_level=AccessLevel.FULL,
        tier=Tier(rank=1, device_kind=None),
        expires_at=clock.now() + timedelta(hours=1),
    )
    draft = replacement.draft_replacement(services, session, address="Main St 1", pin=SOFT_PIN)
    replacement.confirm_replacement(services, session, draft.request_id)
    stock_dsc_plus(services)
    return draft.request_id


def test_R_OPS_3_logistics_assigns_ships_and_records_the_return_in_the_console(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    request_id = replacement_requested(services, clock)
    console_login(api, services, "lara", enrol(services, "lara", Role.LOGISTICS))
    page = api.get("/console/logistics")
    assert page.status_code == 200 and request_id in page.text
    wrong = api.post(
        "/console/logistics/assign",
        data={"request_id": request_id, "serial": "NOPE-1", "csrf_token": csrf_of(page.text)},
    )
    assert wrong.status_code == 422 and "not in stock" in wrong.text
    done = api.post(
        "/console/logistics/assign",
        data={"request_id": request_id, "serial": NEW_SERIAL, "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200 and "Mark shipped" in done.text
    shipped = api.post(
        "/console/logistics/ship",
        data={"request_id": request_id, "csrf_token": csrf_of(done.text)},
    )
    assert shipped.status_code == 200
    again = api.post(
        "/console/logistics/ship",
        data={"request_id": request_id, "csrf_token": csrf_of(done.text)},
    )
    assert again.status_code == 422  # a double decision: wrong_state, nothing written
    url = url_of(services)
    assert scalar(url, f"SELECT state FROM devices WHERE serial='{NEW_SERIAL}'") == "shipped"
    # the user sends the (shipped) device back; logistics records receipt
    with services.uow() as uow:
        device = uow.device_access.by_serial(NEW_SERIAL)
        user = uow.users.by_username("remy")
    assert device is not None and user is not None
    session = CurrentSession(
        session_id=0,
        user_id=user.id,
        access_level=AccessLevel.FULL,
        tier=Tier(rank=1, device_kind=None),
        expires_at=clock.now() + timedelta(hours=1),
    )
    returns.start_return(services, session, device_id=device.public_id, reason="damaged")
    pending = returns.pending_returns(services, LOGISTICS)
    page = api.get("/console/logistics")
    received = api.post(
        "/console/logistics/receive",
        data={"return_id": str(pending[0].id), "csrf_token": csrf_of(page.text)},
    )
    assert received.status_code == 200
    assert scalar(url, "SELECT state FROM account_holds") == "released"


def test_R_OPS_3_logistics_pages_need_the_role_and_a_csrf_token(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    request_id = replacement_requested(services, clock)
    console_login(api, services, "hank", enrol(services, "hank", Role.HELPDESK))
    assert api.get("/console/logistics").status_code == 403
    refused = api.post(
        "/console/logistics/assign",
        data={"request_id": request_id, "serial": NEW_SERIAL, "csrf_token": "x" * 43},
    )
    assert refused.status_code == 403
    assert scalar(url_of(services), "SELECT state FROM replacement_requests") == "requested"
