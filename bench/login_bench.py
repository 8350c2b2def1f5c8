"""Login throughput of a real ``securelogin serve`` (SPEC §10.2 login API).

    python -m bench.login_bench --db sqlite|postgres [--workers N] [--clients C]
                                [--seconds S] [--repeat R] [--answers A] [--users U]

For one fresh database and one server it measures, each ``R`` times:

* ``answer``: second-factor verifications/s.  ``A`` logins are opened first (password
  step, outside the timed window); then only ``POST /api/v1/logins/{id}/answer`` with the
  correct OCRA response is timed: challenge row, lock counters, single-use guard, session
  and audit chain, the whole second-factor path.
* ``full_login``: password step + answer, timed together, for ``S`` seconds; compared
  with the Argon2id bound = cores / (seconds per in-process Argon2id verify).
* ``password_step``: the untimed-window opening of the logins, reported as a by-product.

Prints one JSON line per measurement, then a table (best and median of the repeats).
``--clients`` and ``--full-clients`` take comma-separated lists.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench import report
from bench.fixture import (
    DEFAULT_PG_URL,
    PASSWORD,
    BenchUser,
    Server,
    argon2_hasher,
    installation,
    running_server,
)
from bench.load import drive


def argon2_cost(samples: int = 25, *, parallel: bool = True) -> dict[str, float]:
    """One in-process Argon2id verify: wall and CPU milliseconds (single thread, median),
    the bound = cores / wall seconds per verify, and (``parallel``) the verifies/s that
    ``cores`` threads reach together (argon2-cffi releases the GIL)."""
    hasher, cores = argon2_hasher(), os.cpu_count() or 1
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)
    wall, cpu = [], []
    for _ in range(samples):
        t0, c0 = time.perf_counter(), time.thread_time()
        hasher.verify(stored, PASSWORD)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - t0)
    median = statistics.median(wall)
    found = {
        "argon2_ms_median": round(median * 1000, 2),
        "argon2_ms_min": round(min(wall) * 1000, 2),
        "argon2_cpu_ms": round(statistics.median(cpu) * 1000, 2),
        "cores": cores,
        "argon2_bound_rps": round(cores / median, 1),
    }
    if parallel:
        per_thread = max(1, samples * 2 // cores)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(lambda _: hasher.verify(stored, PASSWORD), range(per_thread * cores)))
        found["argon2_parallel_rps"] = round(per_thread * cores / (time.perf_counter() - t0), 1)
    return found


async def password_step(client: httpx.AsyncClient, user: BenchUser) -> tuple[str, Any]:
    body = {"username": user.username, "password": PASSWORD, "platform": "portal"}
    r = await client.post("/api/v1/logins", json=body)
    if r.status_code != 201:
        return f"login_http_{r.status_code}:{_code(r)}", None
    started = r.json()
    if started.get("status") != "challenge":
        return f"login_status_{started.get('status')}", None
    return "ok", (started["login_id"], user.answer(started["factor"]["prompt"]["challenge"]))


async def answer(client: httpx.AsyncClient, item: tuple[str, str]) -> str:
    login_id, response = item
    r = await client.post(f"/api/v1/logins/{login_id}/answer", json={"response": response})
    if r.status_code != 200:
        return f"answer_http_{r.status_code}:{_code(r)}"
    return "ok" if r.json().get("status") == "authenticated" else "answer_not_authenticated"


async def full_login(client: httpx.AsyncClient, user: BenchUser) -> str:
    outcome, opened = await password_step(client, user)
    return outcome if opened is None else await answer(client, opened)


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code"))
    except ValueError:
        return "?"


class Bench:
    """One server, one fresh database; users are handed out round-robin so that no user
    is asked for more than one login at a time unless clients > users."""

    def __init__(self, server: Server, users: list[BenchUser], labels: dict[str, Any]):
        self.server, self.labels = server, labels
        self._users: Iterator[BenchUser] = itertools.cycle(users)
        self.lines: list[dict[str, Any]] = []

    def emit(self, measure: str, clients: int, run: int, summary: dict[str, Any]) -> None:
        line = {"bench": "securelogin", **self.labels, "measure": measure, "clients": clients}
        line.update(run=run, **summary)
        self.lines.append(line)
        print(json.dumps(line), flush=True)

    async def open_logins(self, count: int, run: int) -> list[tuple[str, str]]:
        opened: list[tuple[str, str]] = []

        async def op(client: httpx.AsyncClient, user: BenchUser) -> str:
            outcome, item = await password_step(client, user)
            if item is not None:
                opened.append(item)
            return outcome

        concurrency = 8
        result = await drive(
            self.server.base_url,
            op,
            self._users,
            concurrency=concurrency,
            max_items=count,
            probes=self.server.probes(),
        )
        self.emit("password_step", concurrency, run, result.summary())
        return opened

    async def answers(self, clients: int, count: int, run: int) -> None:
        opened = await self.open_logins(count, run)
        result = await drive(
            self.server.base_url,
            answer,
            opened,
            concurrency=clients,
            probes=self.server.probes(),
        )
        self.emit("answer", clients, run, result.summary())

    async def full_logins(self, clients: int, seconds: float, run: int, bound: float) -> None:
        """Timed password step + answer.  Besides the bound measured at the start, the
        Argon2id cost is measured again right before the run (the neighbours change), and
        the share of the server's CPU that went into Argon2id is what the ratio would be
        on a machine that ran nothing but the server."""
        near = argon2_cost(8, parallel=False)
        result = await drive(
            self.server.base_url,
            full_login,
            self._users,
            concurrency=clients,
            seconds=seconds,
            probes=self.server.probes(),
        )
        summary = result.summary()
        summary["argon2_bound_rps"] = bound
        summary["ratio_to_bound"] = round(summary["rps"] / bound, 3)
        summary["argon2_ms_adjacent"] = near["argon2_ms_median"]
        summary["ratio_to_adjacent_bound"] = round(summary["rps"] / near["argon2_bound_rps"], 3)
        summary["argon2_cpu_ms"] = near["argon2_cpu_ms"]
        summary.update(report.cpu_ratios(summary))
        self.emit("full_login", clients, run, summary)

    async def warm_up(self) -> None:
        """Connections, imports and caches of every worker, outside any measurement."""
        await drive(self.server.base_url, full_login, self._users, concurrency=8, max_items=40)


def run_config(
    *,
    db: str,
    workers: int,
    answer_clients: list[int],
    full_clients: list[int],
    seconds: float,
    answers: int,
    repeat: int,
    users: int,
    pg_url: str,
) -> list[dict[str, Any]]:
    """Every measurement for one (database, workers) pair; returns the JSON lines."""
    cost = argon2_cost()
    print(json.dumps({"bench": "argon2", **cost}), flush=True)
    labels = {"suite": "matrix", "db": db, "workers": workers}
    labels["argon2_ms"] = cost["argon2_ms_median"]
    with installation(db, users=users, pg_url=pg_url) as inst:
        print(f"# {db}: imported {users} users in {inst.import_seconds:.1f} s", file=sys.stderr)
        with running_server(
            url=inst.url, workers=workers, env=inst.env, workdir=inst.workdir
        ) as server:
            bench = Bench(server, inst.users, labels)
            asyncio.run(bench.warm_up())
            for run in range(1, repeat + 1):
                for c in answer_clients:
                    asyncio.run(bench.answers(c, answers, run))
                for c in full_clients:
                    asyncio.run(bench.full_logins(c, seconds, run, cost["argon2_bound_rps"]))
    return [{"bench": "argon2", **cost}, *bench.lines]


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.login_bench", description=__doc__)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--clients", type=int_list, default=[1, 8, 32], help="answer phase")
    ap.add_argument("--full-clients", type=int_list, default=None, help="default: --clients")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of a full-login run")
    ap.add_argument("--answers", type=int, default=1500, help="logins answered per run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL),
        help="an existing database to connect to for CREATE/DROP DATABASE",
    )
    ap.add_argument("--json-out", help="also append the JSON lines to this file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    lines = run_config(
        db=a.db,
        workers=a.workers,
        answer_clients=a.clients,
        full_clients=a.full_clients or a.clients,
        seconds=a.seconds,
        answers=a.answers,
        repeat=a.repeat,
        users=a.users,
        pg_url=a.pg_url,
    )
    if a.json_out:
        with open(a.json_out, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(line) + "\n" for line in lines)
    print(report.table(lines))


if __name__ == "__main__":
    main()
