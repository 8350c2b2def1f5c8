"""What one withdrawal costs the database, pinned (issue 14, target 3; docs/performance.md
"Statements per operation"): the statements and commits of a request and of its typed
confirmation, counted with SQLAlchemy's ``before_cursor_execute`` and ``commit`` events on
both databases — so that nobody adds a statement back without seeing this fail.

Of each transaction, 2 statements are the audit chain's (``SqlAuditLog.flush``: lock the
head, insert the event; a trigger moves the head, migration 0014).  SQLite's ``BEGIN
IMMEDIATE`` is sent by the dialect itself (``SqliteWriters``, adapters/db/engine.py), so
these events do not see it, as PostgreSQL's BEGIN from the driver.

The idempotency key's lookup is folded into the withdrawal's insert (``ON CONFLICT DO
NOTHING``): the replays below prove it still answers exactly as R-WD-1 says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from sqlalchemy import event

from securelogin.adapters.db.uow import SqlDatabase
from securelogin.errors import IdempotencyKeyReused, WithdrawalRefused
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.funds_ports import WithdrawalStatus
from tests.dbutil import execute, scalar, url_of
from tests.withdrawal_kit import ACCOUNT, answer, load, session_token

T = TypeVar("T")

#: (request, confirmation) statements.  SQLite has no account lock statement (BEGIN
#: IMMEDIATE serialised the transaction already)
BUDGET = {"postgresql": (8, 15), "sqlite": (8, 14)}


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@dataclass
class Counter:
    engine: Any
    last: Counted = field(default_factory=Counted)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.last.statements.append(" ".join(statement.split()))

    def _commit(self, *_: Any) -> None:
        self.last.commits += 1

    def run(self, call: Callable[..., T], *args: Any) -> tuple[T, Counted]:
        self.last = Counted()
        return call(*args), self.last


@pytest.fixture
def counter(services: Services) -> Iterator[Counter]:
    assert isinstance(services.database, SqlDatabase)
    found = Counter(services.database.engine)
    event.listen(found.engine, "before_cursor_execute", found._statement)
    event.listen(found.engine, "commit", found._commit)
    yield found
    event.remove(found.engine, "before_cursor_execute", found._statement)
    event.remove(found.engine, "commit", found._commit)


@pytest.fixture
def alice(services: Services) -> sessions.CurrentSession:
    load(services, {"alice": ["dsc_plus"]}, cash="100000.00")
    return sessions.authenticate(services, session_token(services, "alice", "dsc_plus"))


def _ask(amount: str, key: str) -> withdrawals.WithdrawalRequest:
    return withdrawals.parse_request(
        account=ACCOUNT, amount=amount, destination="Bank 1", idempotency_key=key
    )


def test_a_withdrawal_stays_within_its_statement_budget(
    services: Services, counter: Counter, alice: sessions.CurrentSession
) -> None:
    dialect = counter.engine.dialect.name
    made, requested = counter.run(
        withdrawals.request_withdrawal, services, alice, _ask("10.00", "k-1")
    )
    assert made.factor is not None
    response = answer(services, "dsc_plus", made.factor.prompt.as_json())
    result, confirmed = counter.run(
        withdrawal_confirm.confirm_withdrawal, services, alice, made.withdrawal_id, response
    )
    assert result.status is WithdrawalStatus.ACCEPTED
    listing = "\n".join([*requested.statements, "--", *confirmed.statements])
    request_budget, confirm_budget = BUDGET[dialect]
    assert len(requested.statements) <= request_budget, listing
    assert len(confirmed.statements) <= confirm_budget, listing
    assert (requested.commits, confirmed.commits) == (1, 1)
    # no savepoint, and the key is not looked up before the insert that uses it
    assert not any("SAVEPOINT" in s for s in requested.statements), listing
    assert not any("idempotency_key =" in s for s in requested.statements), listing


def test_R_WD_1_a_replay_answers_as_the_first_time_and_leaves_nothing_behind(
    services: Services, counter: Counter, alice: sessions.CurrentSession
) -> None:
    first = withdrawals.request_withdrawal(services, alice, _ask("10.00", "k-2"))
    ceremonies = scalar(url_of(services), "SELECT count(*) FROM ceremonies")
    again, replayed = counter.run(
        withdrawals.request_withdrawal, services, alice, _ask("10.00", "k-2")
    )
    assert again.withdrawal_id == first.withdrawal_id
    assert again.factor is not None and first.factor is not None
    assert again.factor.prompt.challenge == first.factor.prompt.challenge
    # the replay's own ceremony and challenge were rolled back with its transaction
    assert replayed.commits == 0
    assert scalar(url_of(services), "SELECT count(*) FROM ceremonies") == ceremonies
    assert scalar(url_of(services), "SELECT count(*) FROM withdrawals") == 1


def test_R_WD_1_a_replay_after_the_account_closed_still_gets_the_first_answer(
    services: Services, alice: sessions.CurrentSession
) -> None:
    first = withdrawals.request_withdrawal(services, alice, _ask("10.00", "k-3"))
    execute(url_of(services), "UPDATE accounts SET status = 'closed' WHERE number = :n", n=ACCOUNT)
    again = withdrawals.request_withdrawal(services, alice, _ask("10.00", "k-3"))
    assert again.withdrawal_id == first.withdrawal_id
    assert again.status is WithdrawalStatus.CONFIRMATION_REQUIRED
    with pytest.raises(IdempotencyKeyReused):
        withdrawals.request_withdrawal(services, alice, _ask("10.01", "k-3"))


def test_R_WD_3_a_refusal_is_the_keys_answer_from_then_on(
    services: Services, alice: sessions.CurrentSession
) -> None:
    with pytest.raises(WithdrawalRefused) as refused:
        withdrawals.request_withdrawal(services, alice, _ask("100000.01", "k-4"))
    assert refused.value.code == "insufficient_funds"
    with pytest.raises(WithdrawalRefused) as again:
        withdrawals.request_withdrawal(services, alice, _ask("100000.01", "k-4"))
    assert again.value.code == "insufficient_funds"
    assert scalar(url_of(services), "SELECT count(*) FROM withdrawals") == 1
