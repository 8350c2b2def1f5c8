"""Migration 0010 (issue 11): ceremonies move out of ``logins`` into their own table, and
what was pending before the upgrade can be finished after it — a login waiting for its
second factor, a withdrawal waiting for its (SMS, sealed) confirmation code and a share
request waiting for the owner's answer — on SQLite and PostgreSQL.

The pending rows are made by the real use cases, taken down to 0009 (the shape the code
before 0010 wrote, checked below: pretend ``logins`` rows for the withdrawal and the
share, ``challenges.login_id``), then upgraded again and answered.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from securelogin.adapters.db.migrate import alembic_config
from securelogin.bootstrap import bootstrap
from securelogin.domain.access import Platform
from securelogin.service import sessions
from securelogin.service.ceremony.factors import factor_view
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.funds_ports import WithdrawalStatus
from securelogin.service.lifecycle import sharing
from securelogin.service.login import login
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.fakes import FakeClock
from tests.integration.sharing_data import (
    PASSWORD,
    answer,
    code_card,
    dsc,
    dsc_plus,
    load,
    sms,
    temporary,
    user,
    user_id,
)
from tests.withdrawal_kit import session_token


def downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def pending_work(services: Services) -> dict[str, str]:
    """A login, a withdrawal and a share request, each waiting for its second factor;
    the answers the devices give are taken now (the SMS code is in the outbox)."""
    load(
        services,
        user("alice", "E-A", "U1000001", dsc_plus("DP-A")),
        user("alice2", "E-A", "U1000002", code_card("SCC-B")),
        user("bob", "E-B", "U3000001", dsc("DSC-B")),
        user("maya", "E-B", "U3000001", temporary(), sms()),
    )
    started = login.start_login(
        services, username="bob", password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None
    token = session_token(services, "maya", "temporary_code")
    session = sessions.authenticate(services, token)
    with services.uow() as uow:
        maya = uow.users.by_username("maya")
        assert maya is not None
        phone = next(d for d in uow.device_access.of_user(maya.id) if d.kind == "sms")
    asked = withdrawals.request_withdrawal(
        services,
        session,
        withdrawals.parse_request(
            account="U3000001",
            amount="10.00",
            destination="Chase ****1234",
            idempotency_key="before-0010",
            device_id=phone.public_id,
        ),
    )
    assert asked.factor is not None and asked.factor.prompt.sent_to is not None
    code = answer(services, asked.factor, "sms", services.clock.now())
    shared = sharing.start_share(
        services,
        requester_id=user_id(services, "alice2"),
        owner_username="alice",
        owner_password=PASSWORD,
    )
    return {
        "login": started.login_id,
        "login_factor_kind": started.factor.kind.value,
        "token": token,
        "withdrawal": asked.withdrawal_id,
        "code": code,
        "share": shared.request_id,
        "share_prompt": str(dict(shared.factor.prompt.as_json())),
    }


def the_old_shape(url: str, work: dict[str, str]) -> None:
    """At 0009, as the code before 0010 wrote it: the withdrawal's and the share's
    challenges hang off pretend ``logins`` rows."""
    shape = "SELECT l.status || '/' || l.platform FROM logins l JOIN "
    row = scalar(
        url, shape + "withdrawals w ON w.login_id = l.id WHERE w.id = :w", w=work["withdrawal"]
    )
    assert row == "withdrawal/portal"
    row = scalar(
        url, shape + "share_requests s ON s.login_id = l.id WHERE s.public_id = :s", s=work["share"]
    )
    assert row == "challenge/share"
    assert scalar(url, "SELECT status FROM logins WHERE id = :l", l=work["login"]) == "challenge"
    assert scalar(url, "SELECT count(*) FROM challenges WHERE login_id IS NOT NULL") >= 3


def carry_over(url: str, clock: FakeClock) -> None:
    services = bootstrap(make_settings(url), migrate=True, clock=clock)
    try:
        work = pending_work(services)
    finally:
        services.database.close()
    downgrade(url, "0009")
    the_old_shape(url, work)
    clock.advance(seconds=40)  # a fresh time step for the TOTP answers
    services = bootstrap(make_settings(url), migrate=True, clock=clock)  # → 0010 and on
    try:
        kinds = {
            str(k): int(str(n))
            for k, n in [
                (p, scalar(url, "SELECT count(*) FROM ceremonies WHERE purpose = :p", p=p))
                for p in ("login", "withdrawal", "share")
            ]
        }
        # maya's own login (temporary code) and bob's pending one; no pretend rows left
        assert kinds == {"login": 2, "withdrawal": 1, "share": 1}
        assert scalar(url, "SELECT count(*) FROM logins") == 2

        state = login.login_state(services, work["login"])
        assert state.status == "challenge" and state.factor is not None
        grant = login.answer_login(
            services, work["login"], answer(services, state.factor, "dsc", clock.now())
        )
        assert grant.access_level == "full"

        session = sessions.authenticate(services, work["token"])
        confirmed = withdrawal_confirm.confirm_withdrawal(
            services, session, work["withdrawal"], work["code"]
        )
        assert confirmed.status is WithdrawalStatus.ACCEPTED

        request = sharing.request_view(services, work["share"])
        assert request.status == "challenge"
        with services.uow() as uow:
            alice = uow.users.by_username("alice")
            assert alice is not None
            device = next(d for d in uow.device_access.of_user(alice.id) if d.kind == "dsc_plus")
            ceremony = uow.ceremonies.get(
                str(scalar(url, "SELECT ceremony_id FROM share_requests"))
            )
            assert ceremony is not None
            factor = factor_view(uow, ceremony.id)
        assert factor is not None and str(dict(factor.prompt.as_json())) == work["share_prompt"]
        decided = sharing.answer_share(
            services,
            requester_id=user_id(services, "alice2"),
            request_id=work["share"],
            response=answer(services, factor, device, clock.now()),
        )
        assert decided.status == "approved"
    finally:
        services.database.close()


def test_issue11_migration_0010_carries_pending_ceremonies_over_on_sqlite(
    tmp_path: Path, clock: FakeClock
) -> None:
    carry_over(f"sqlite:///{tmp_path / 'before.db'}", clock)


@pytest.mark.postgres
def test_issue11_migration_0010_carries_pending_ceremonies_over_on_postgres(
    pg_empty_url: str, clock: FakeClock
) -> None:
    carry_over(pg_empty_url, clock)
