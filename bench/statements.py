"""Statements and commits per use case, counted in-process with a SQLAlchemy
``before_cursor_execute`` event (docs/performance.md "Statements per operation").

    python -m bench.statements [--url postgresql://…] [--repeat 20] [--sql]

Counts, per call (medians over ``--repeat`` calls, with the calling thread's CPU time):
one login's password step (``start_login``, its Argon2id verify included in the CPU),
one login answer (DSC+ OCRA, ``answer_login``), one withdrawal request
(``request_withdrawal``) and its confirmation (``confirm_withdrawal``).  BEGIN/COMMIT
issued by the driver are not statements here — nor, since issue 14, SQLite's ``BEGIN
IMMEDIATE``, which the dialect sends itself (``SqliteWriters``, adapters/db/engine.py):
add one per transaction on SQLite to compare with older counts; commits are counted with
the ``commit`` event.  One JSON line per measure; with ``--sql``, the SQL of every
statement of the last round's measures too (one JSON line each).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event

from bench.withdrawals_bench import PASSWORD, PIN, SEED, populate, wire
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.domain.devices.registry import DSC_PLUS_SUITE
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.funds import withdrawal_confirm, withdrawals
from securelogin.service.login import login

T = TypeVar("T")


class Counter:
    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self.sql: list[str] = []
        #: the SQL of each measure's last call, by measure name (``--sql``)
        self.listings: dict[str, list[str]] = {}

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.statements += 1
        self.sql.append(" ".join(statement.split()))

    def _commit(self, *_: object) -> None:
        self.commits += 1
        self.sql.append("COMMIT")

    def measure(
        self, name: str, call: Callable[..., T], *args: object
    ) -> tuple[T, tuple[int, int, float]]:
        """The call's result, and its statements, commits and CPU milliseconds (the
        thread's own CPU: in-process, the server's work without the load generator's)."""
        self.sql = []
        s, c, cpu = self.statements, self.commits, time.thread_time()
        result = call(*args)
        spent = (time.thread_time() - cpu) * 1000
        self.listings[name] = self.sql
        return result, (self.statements - s, self.commits - c, spent)


def _engine(services: Services) -> Any:
    return services.database.engine  # type: ignore[attr-defined]


def one_round(services: Services, counter: Counter, n: int) -> list[tuple[int, int, float]]:
    """Log in with a DSC+ (the password step, then the answer), ask for a withdrawal and
    confirm it: the four counts.  The password step's CPU includes its Argon2id verify."""
    started, password_step = counter.measure(
        "login_password_step",
        lambda: login.start_login(
            services, username="trader0", password=PASSWORD, platform=Platform.PORTAL
        ),
    )
    assert started.factor is not None  # every trader holds a DSC+
    response = otp.ocra(DSC_PLUS_SUITE, SEED, question=started.factor.prompt.challenge, pin=PIN)
    grant, answered = counter.measure(
        "login_answer", login.answer_login, services, started.login_id, response
    )
    session = sessions.authenticate(services, grant.token)
    request = withdrawals.parse_request(
        account=f"U{9000000 + n}", amount="10.00", destination="Bench Bank", idempotency_key=str(n)
    )
    made, requested = counter.measure(
        "withdrawal_request", withdrawals.request_withdrawal, services, session, request
    )
    assert made.factor is not None
    answer = otp.ocra(DSC_PLUS_SUITE, SEED, question=made.factor.prompt.challenge or "", pin=PIN)
    _, confirmed = counter.measure(
        "withdrawal_confirm",
        withdrawal_confirm.confirm_withdrawal,
        services,
        session,
        made.withdrawal_id,
        answer,
    )
    return [answered, requested, confirmed, password_step]


def run(url: str, repeat: int, *, sql: bool = False) -> list[dict[str, Any]]:
    services = wire(url)
    populate(services, accounts=repeat + 1)
    counter = Counter()
    counter.attach(_engine(services))
    rounds = [one_round(services, counter, n) for n in range(repeat)]
    services.database.close()
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    lines = []
    for name, rows in (
        ("login_password_step", [r[3] for r in rounds]),
        ("login_answer", [r[0] for r in rounds]),
        ("withdrawal_request", [r[1] for r in rounds]),
        ("withdrawal_confirm", [r[2] for r in rounds]),
    ):
        lines.append(
            {
                "bench": "statements",
                "database": kind,
                "measure": name,
                "statements": statistics.median(r[0] for r in rows),
                "commits": statistics.median(r[1] for r in rows),
                "cpu_ms_p50": round(statistics.median(r[2] for r in rows), 2),
            }
        )
        if sql:
            lines.extend(
                {"measure": name, "n": i, "sql": text}
                for i, text in enumerate(counter.listings[name], 1)
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="database URL (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--sql", action="store_true", help="print each statement's SQL too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'statements.db'}"
        for line in run(url, args.repeat, sql=args.sql):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
