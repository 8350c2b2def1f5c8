"""Account closure and documents (R-CLOSE-1, R-LOGIN-8, R-RETURN-3) on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from securelogin.domain.access import AccessLevel, Platform
from securelogin.errors import AccessDenied, NotFound
from securelogin.service.context import Services
from securelogin.service.lifecycle import closure, documents, jobs, returns
from securelogin.service.login import login
from tests.dbutil import scalar, url_of
from tests.devices import PASSWORD, SEED20, Brokerage
from tests.fakes import FakeClock
from tests.lifecycle_kit import ADMIN, LOGISTICS, current, device_state, log_in


def _closable(services: Services) -> None:
    Brokerage().user(
        "otto",
        {"kind": "dsc", "serial": "DSC-OTTO", "secret_hex": SEED20.hex()},
        {"kind": "code_card", "serial": "SCC-OTTO", "values": {"1": "AAA", "2": "BBB"}},
    ).load(services)


def test_R_CLOSE_1_closing_settles_devices_ends_sessions_and_leaves_documents_only(
    services: Services, clock: FakeClock
):
    from securelogin.domain import otp

    _closable(services)
    grant = log_in(
        services, lambda p: otp.totp(SEED20, at=clock.now().timestamp()), username="otto"
    )
    with pytest.raises(AccessDenied):
        closure.close_account(services, LOGISTICS, account="U7000001")
    report = closure.close_account(services, ADMIN, account="U7000001")
    assert report.users == ["otto"] and report.sessions_ended == 1
    assert report.returns == ["DSC-OTTO"] and report.shredded == ["SCC-OTTO"]
    with services.uow() as uow:
        states = {d.serial: d.state for d in uow.lifecycle.devices_of(1)}
    assert states == {"DSC-OTTO": "return_pending", "SCC-OTTO": "revoked"}
    with pytest.raises(Exception) as ended:
        current(services, grant)
    assert getattr(ended.value, "code", None) == "unauthenticated"
    with pytest.raises(Exception) as again:
        closure.close_account(services, ADMIN, account="U7000001")
    assert getattr(again.value, "code", None) == "account_closed"
    # R-LOGIN-8: the password alone, documents only
    started = login.start_login(
        services, username="otto", password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.session is not None
    assert started.session.access_level is AccessLevel.DOCUMENTS_ONLY
    session = current(services, started.session)
    docs = documents.list_documents(services, session)
    assert [d.kind for d in docs] == ["activity_statement"]
    pdf = documents.download(services, session, docs[0].public_id)
    assert pdf.pdf.startswith(b"%PDF-") and pdf.filename.startswith("U7000001-")
    with pytest.raises(NotFound):
        documents.download(services, session, "doc_nope")


def test_R_RETURN_3_device_not_returned_after_closure_costs_its_deposit(
    services: Services, clock: FakeClock
):
    _closable(services)
    url = url_of(services)
    from tests.dbutil import execute

    execute(
        url,
        "INSERT INTO account_holds (account_id, amount_cents, reason, device_id, state, "
        "created_at) SELECT 1, 2000, 'device_deposit', id, 'held', created_at FROM devices "
        "WHERE serial = 'DSC-OTTO'",
    )
    closure.close_account(services, ADMIN, account="U7000001")
    clock.advance(days=29)
    assert jobs.run_once(services).deposits_charged == 0
    clock.advance(days=1)
    assert jobs.run_once(services).deposits_charged == 1
    assert scalar(url, "SELECT state FROM account_holds") == "charged"
    assert jobs.run_once(services).deposits_charged == 0


def test_R_CLOSE_1_unknown_account_and_received_return_after_closure(
    services: Services, clock: FakeClock
):
    _closable(services)
    with pytest.raises(NotFound):
        closure.close_account(services, ADMIN, account="U0000000")
    closure.close_account(services, ADMIN, account="U7000001")
    pending = returns.pending_returns(services, LOGISTICS)
    returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    with services.uow() as uow:
        device = uow.device_access.by_serial("DSC-OTTO")
    assert device is not None and device_state(services, device.public_id) == "returned"


def test_R_LOGIN_8_demo_has_a_closed_account_user_with_documents(
    services: Services, clock: FakeClock
) -> None:
    from securelogin.service.operators.demo import DEMO_PASSWORD, load_demo

    load_demo(services)
    started = login.start_login(
        services, username="kate", password=DEMO_PASSWORD, platform=Platform.PORTAL
    )
    assert started.session is not None
    assert started.session.access_level is AccessLevel.DOCUMENTS_ONLY
    docs = documents.list_documents(services, current(services, started.session))
    assert sorted(d.kind for d in docs) == ["activity_statement", "tax_form"]
