"""Issue 16 §1 on PostgreSQL: an authorization code redeemed by many requests at once
gives tokens exactly once (one conditional UPDATE marks it used).  The strict-xfail
variant swaps in a read-then-write ``use_code`` to show the check catches it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from securelogin.adapters.db.oidc import SqlOidc, _code, oidc_codes
from securelogin.bootstrap import bootstrap
from securelogin.entrypoints.api.app import create_app
from securelogin.errors import SecureLoginError
from securelogin.service.context import Services
from securelogin.service.oidc import keys, tokens
from securelogin.service.oidc_ports import CodeRow
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.devices import KINDS, Brokerage
from tests.e2e.oidc_kit import (
    ISSUER,
    RP_CALLBACK,
    auth_params,
    authorize,
    code_from,
    pkce,
    register,
)
from tests.fakes import FakeClock

PARALLEL = 12


@pytest.fixture
def pg_services(pg_url: str, clock: FakeClock) -> Iterator[Services]:
    wired = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    Brokerage().user("alice", KINDS["dsc_plus"].device).load(wired)
    keys.signing_key(wired)  # made once, before the race
    yield wired
    wired.database.close()


def redeem_in_parallel(services: Services, clock: FakeClock) -> list[str]:
    rp = register(services)
    verifier, challenge = pkce()
    params = auth_params(rp.client_id, challenge)
    with TestClient(create_app(services)) as api:
        code = code_from(authorize(api, services, clock, params), params)

    def one(_: int) -> str:
        try:
            tokens.exchange_code(
                services,
                issuer=ISSUER,
                client_id=rp.client_id,
                client_secret=rp.client_secret,
                grant_type="authorization_code",
                code=code,
                redirect_uri=RP_CALLBACK,
                code_verifier=verifier,
            )
        except SecureLoginError as exc:
            return exc.code
        return "issued"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def read_then_write(arrived: threading.Barrier) -> Callable[..., tuple[CodeRow, bool] | None]:
    """The broken redemption: read whether it was used, decide in Python, write.  Every
    request reads before any writes (the barrier), as happens when they arrive together
    on a busy server: the check must then catch it whatever the machine's load."""

    def use_code(self: SqlOidc, code_hash: str, *, now: object) -> tuple[CodeRow, bool] | None:
        c = oidc_codes.c
        row = self.conn.execute(select(oidc_codes).where(c.code_hash == code_hash)).first()
        if row is None:
            return None
        # a request that failed before reading breaks the barrier: the others go on
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=10)
        self.conn.execute(update(oidc_codes).where(c.code_hash == code_hash).values(used_at=now))
        return _code(row), row.used_at is None

    return use_code


@pytest.mark.postgres
def test_SPEC_10_2a_a_code_redeemed_in_parallel_gives_tokens_once(
    pg_url: str, pg_services: Services, clock: FakeClock
) -> None:
    answers = redeem_in_parallel(pg_services, clock)
    assert sorted(answers) == ["invalid_grant"] * (PARALLEL - 1) + ["issued"]
    assert scalar(pg_url, "SELECT count(*) FROM oidc_tokens") == 1


@pytest.mark.postgres
@pytest.mark.xfail(
    strict=True, raises=AssertionError, reason="a read-then-write redemption issues tokens twice"
)
def test_SPEC_10_2a_the_race_check_fails_against_a_read_then_write_redemption(
    pg_url: str, pg_services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqlOidc, "use_code", read_then_write(threading.Barrier(PARALLEL)))
    redeem_in_parallel(pg_services, clock)
    assert scalar(pg_url, "SELECT count(*) FROM oidc_tokens") == 1
