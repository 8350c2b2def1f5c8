"""Withdrawal limits at scale (SPEC §6, R-LIMIT-3/4/5) on PostgreSQL.

    python -m bench.withdrawals_bench [--rows 10000000] [--accounts 10000]
                                      [--checks 2000] [--seconds 10] [--threads 8]
                                      [--processes 1]

1. A fresh database; ``--accounts`` accounts and ``--rows`` ledger rows (withdrawals
   spread over 400 days) bulk-loaded with ``generate_series`` (not through the API), and
   the per-business-day totals built from them with one ``INSERT … SELECT … GROUP BY``.
2. ``limit_check``: the atomic check of a confirmation — lock the account row, then in
   one statement read the user's grant, balance, holds and the debits of the day and of
   the window (at most five per-day rows), decide — timed ``--checks`` times on random
   accounts inside an open transaction (p50/p99/max in ms).
3. ``withdrawals_per_second``: request + confirm (DSC+, OCRA response), in-process
   service calls, ``--threads`` threads for ``--seconds``, all on ONE account (they
   queue on its lock) and on MANY accounts (one per thread); with the process's CPU per
   withdrawal (all threads share one GIL: 1000 / it bounds one process's rate) and
   PostgreSQL's (its processes' CPU from ``/proc`` when it runs here); with
   ``--processes P`` the many-accounts measure again over P processes (as ``serve
   --workers P``), the threads and accounts split between them.

Prints one JSON line per measurement (with the machine line first).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.fixture import DEFAULT_PG_URL, fresh_database
from bench.run_all import machine
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.domain import otp
from securelogin.domain.access import Platform
from securelogin.domain.devices.registry import DSC_PLUS_SUITE
from securelogin.domain.limits import limits_for
from securelogin.service import importing, sessions
from securelogin.service.context import Services
from securelogin.service.funds import funds, withdrawal_confirm, withdrawals
from securelogin.service.login import login

PASSWORD = "Bench-Password-2026"
SEED = bytes(range(1, 33))
PIN = "4821"
TRADERS = 8


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


def wire(url: str, *, migrate: bool = True) -> Services:
    settings = load_settings(
        database_url=url, master_key=base64.b64encode(b"B" * 32).decode(), argon2_memory_kib=19456
    )
    return bootstrap(settings, migrate=migrate)


def populate(services: Services, accounts: int) -> None:
    """One organisation, ``accounts`` accounts, 8 traders with a DSC+ each, granted on all."""
    numbers = [f"U{9000000 + i}" for i in range(accounts)]
    data = {
        "entities": [{"id": "E-B", "name": "Bench Org", "identification": {"ssn": "900-00-0009"}}],
        "accounts": [{"id": n, "entity": "E-B", "cash": "1000000000.00"} for n in numbers],
        "users": [
            {
                "username": f"trader{t}",
                "entity": "E-B",
                "password": PASSWORD,
                "devices": [
                    {
                        "kind": "dsc_plus",
                        "serial": f"B-DSCP-{t}",
                        "secret_hex": SEED.hex(),
                        "pin": PIN,
                    }
                ],
                "grants": [{"account": n, "rights": ["trade", "withdraw"]} for n in numbers],
            }
            for t in range(TRADERS)
        ],
    }
    importing.import_data(services, data)


def bulk_ledger(url: str, rows: int) -> dict[str, Any]:
    """``rows`` withdrawals over every account and 400 days, then the day totals."""
    t0 = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO ledger_entries (account_id, kind, amount_cents, business_day,
                                        reference, created_at)
            SELECT 1 + mod(g, n.c), 'withdrawal', -(100 + mod(g, 5000)),
                   DATE '2026-11-20' - mod(g / n.c, 400)::int, 'bulk',
                   TIMESTAMP '2026-11-20 15:00' - make_interval(days => mod(g / n.c, 400)::int)
            FROM generate_series(1, %(rows)s::bigint) AS g,
                 (SELECT count(*) AS c FROM accounts) AS n
            """,
            {"rows": rows},
        )
        loaded = time.perf_counter() - t0
        conn.execute(
            """
            INSERT INTO withdrawal_day_totals (account_id, business_day, total_cents)
            SELECT account_id, business_day, -sum(amount_cents) FROM ledger_entries
            WHERE kind = 'withdrawal' GROUP BY account_id, business_day
            """
        )
        conn.execute("ANALYZE")
        totals = conn.execute("SELECT count(*) FROM withdrawal_day_totals").fetchone()
        count = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()
    return {
        "bench": "withdrawals",
        "measure": "bulk_load",
        "ledger_rows": count[0] if count else None,
        "day_total_rows": totals[0] if totals else None,
        "load_seconds": round(loaded, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }


def limit_checks(services: Services, accounts: int, samples: int) -> dict[str, Any]:
    limits = limits_for(device_kind=None, opted_out=False, catalogue=services.policy.catalogue)
    now = services.clock.now()
    with services.uow() as uow:
        trader = uow.users.by_username("trader0")
    assert trader is not None
    timings, cpu = [], []
    for _ in range(samples):
        account_id = random.randint(1, accounts)
        with services.uow() as uow:
            t0, c0 = time.perf_counter(), time.thread_time()
            funds.check_limits(
                services,
                uow,
                user_id=trader.id,
                account_id=account_id,
                limits=limits,
                amount_cents=100,
                requested_at=now,
                locked=True,
            )
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
    timings.sort()
    return {
        "bench": "withdrawals",
        "measure": "limit_check",
        "samples": samples,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
        "max_ms": round(timings[-1], 3),
        "client_cpu_ms_p50": round(statistics.median(cpu), 3),
        "target_p99_ms": 5,
    }


def server_side(url: str, accounts: int, samples: int) -> dict[str, Any]:
    """What PostgreSQL itself spends on the check's two statements (EXPLAIN ANALYZE:
    planning + execution), against summing the window from the 10 M-row ledger.  The
    ``lock`` and ``state`` texts are what ``adapters/db/funds.py`` builds (``_LOCK``,
    ``_state_query`` by id)."""
    window = [date(2026, 11, d) for d in (16, 17, 18, 19, 20)]
    statements = {
        "lock": "SELECT id FROM accounts WHERE id = %(id)s FOR UPDATE",
        "state": "SELECT a.id, a.number, a.status, g.rights, a.balance_cents, "
        "(SELECT coalesce(sum(h.amount_cents), 0) FROM account_holds h "
        "WHERE h.account_id = a.id AND h.state = 'held'), "
        "(SELECT coalesce(sum(d.total_cents), 0) FROM withdrawal_day_totals d "
        "WHERE d.account_id = a.id AND d.business_day = %(day)s), "
        "(SELECT coalesce(sum(d.total_cents), 0) FROM withdrawal_day_totals d "
        "WHERE d.account_id = a.id AND d.business_day = ANY(%(days)s)), "
        "u.username, u.opted_out FROM accounts a JOIN users u ON u.id = 1 "
        "LEFT JOIN grants g ON g.account_id = a.id AND g.user_id = u.id WHERE a.id = %(id)s",
        "naive_ledger_sum": "SELECT business_day, -sum(amount_cents) FROM ledger_entries "
        "WHERE account_id = %(id)s AND business_day = ANY(%(days)s) GROUP BY business_day",
    }
    found: dict[str, Any] = {"bench": "withdrawals", "measure": "limit_check_server_ms"}
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for name, template in statements.items():
            spent = []
            for _ in range(samples):
                params = {"id": random.randint(1, accounts), "day": window[-1], "days": window}
                row = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + template, params).fetchone()
                plan = row[0][0] if row else {"Planning Time": 0.0, "Execution Time": 0.0}
                spent.append(plan["Planning Time"] + plan["Execution Time"])
                conn.rollback()
            spent.sort()
            found[f"{name}_p50"] = round(statistics.median(spent), 3)
            found[f"{name}_p99"] = round(spent[int(len(spent) * 0.99) - 1], 3)
    return found


def traders(services: Services) -> list[sessions.CurrentSession]:
    found = []
    for t in range(TRADERS):
        started = login.start_login(
            services, username=f"trader{t}", password=PASSWORD, platform=Platform.PORTAL
        )
        assert started.factor is not None
        response = otp.ocra(DSC_PLUS_SUITE, SEED, question=started.factor.prompt.challenge, pin=PIN)
        grant = login.answer_login(services, started.login_id, response)
        found.append(sessions.authenticate(services, grant.token))
    return found


def postgres_cpu(url: str) -> float | None:
    """CPU seconds so far of the whole PostgreSQL server: the postmaster with its
    reaped children (``cutime``/``cstime``: backends that ended) plus every live
    process (from ``pg_stat_activity`` and ``/proc``); None when it is not on this
    machine."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        pids = [int(row[0]) for row in conn.execute("SELECT pid FROM pg_stat_activity")]
    ticks, total, parents = os.sysconf("SC_CLK_TCK"), 0, set()
    for pid in pids:
        try:
            fields = _proc_stat(pid)
        except OSError:
            continue
        parents.add(int(fields[1]))
        total += int(fields[11]) + int(fields[12])  # utime + stime
    if len(parents) != 1:
        return None
    fields = _proc_stat(parents.pop())
    total += sum(int(f) for f in fields[11:15])  # its own and its reaped children's
    return total / ticks


def _proc_stat(pid: int) -> list[str]:
    """``/proc/PID/stat`` after the command name: state, ppid, … (utime is [11])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_ms(before: float | None, after: float | None, done: int) -> float | None:
    """PostgreSQL's CPU per withdrawal between two :func:`postgres_cpu` readings."""
    if before is None or after is None:
        return None
    return round((after - before) * 1000 / max(1, done), 2)


def throughput(
    services: Services, team: list[sessions.CurrentSession], *, accounts: list[str], seconds: float,
    threads: int, label: str, offset: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """``threads`` threads, thread ``i`` as trader ``offset + i`` on account ``i``."""
    stop = time.monotonic() + seconds
    done = [0] * threads
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker(i: int) -> None:
        session = team[(offset + i) % len(team)]
        account = accounts[i % len(accounts)]
        while time.monotonic() < stop:
            with lock:
                n = next(counter)
            started = withdrawals.request_withdrawal(
                services,
                session,
                withdrawals.parse_request(
                    account=account,
                    amount="1.00",
                    destination="Bench Bank",
                    idempotency_key=f"{label}-{n}",
                ),
            )
            assert started.factor is not None
            challenge = started.factor.prompt.challenge
            response = otp.ocra(DSC_PLUS_SUITE, SEED, question=challenge, pin=PIN)
            result = withdrawal_confirm.confirm_withdrawal(
                services, session, started.withdrawal_id, response
            )
            assert result.status == "accepted", result
            done[i] += 1

    t0, cpu0 = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "bench": "withdrawals",
        "measure": f"withdrawals_per_second_{label}",
        "threads": threads,
        "accounts": len(set(accounts)),
        "withdrawals": sum(done),
        "per_second": round(sum(done) / elapsed, 1),
        # this process's CPU (all threads; one GIL) per withdrawal: 1000 / it bounds the
        # rate of one process whatever the machine's load
        "process_cpu_ms_per_withdrawal": round(cpu * 1000 / max(1, sum(done)), 2),
    }


def _one_process(job: tuple[str, list[str], float, int, int, float]) -> dict[str, Any]:
    """One of ``--processes`` processes: its own services and sessions, its share of the
    threads and accounts, started at the same wall-clock time as the others."""
    url, accounts, seconds, threads, offset, start_at = job
    services = wire(url, migrate=False)
    try:
        team = traders(services)
        time.sleep(max(0.0, start_at - time.time()))
        line = throughput(
            services,
            team,
            accounts=accounts,
            seconds=seconds,
            threads=threads,
            label=f"processes_{offset}",
            offset=offset,
        )
        line["late_s"] = round(max(0.0, time.time() - seconds - start_at), 2)
        return line
    finally:
        services.database.close()


def throughput_processes(
    url: str, accounts: list[str], *, seconds: float, threads: int, processes: int
) -> dict[str, Any]:
    """The many-accounts measure spread over ``processes`` processes (as ``serve
    --workers`` would: one GIL each), ``threads`` threads and accounts in all."""
    share = threads // processes
    start_at = time.time() + 20  # spawning, imports and the traders' logins first
    jobs = [
        (url, accounts[p * share : (p + 1) * share], seconds, share, p * share, start_at)
        for p in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        lines = pool.map(_one_process, jobs)
    done = sum(line["withdrawals"] for line in lines)
    cpu = sum(line["process_cpu_ms_per_withdrawal"] * line["withdrawals"] for line in lines)
    return {
        "bench": "withdrawals",
        "measure": "withdrawals_per_second_many_accounts_processes",
        "processes": processes,
        "threads": share * processes,
        "accounts": len({a for job in jobs for a in job[1]}),
        "withdrawals": done,
        "per_second": round(sum(line["per_second"] for line in lines), 1),
        "per_process": [line["per_second"] for line in lines],
        "process_cpu_ms_per_withdrawal": round(cpu / max(1, done), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="also run the many-accounts measure over this many processes (the threads split)",
    )
    args = parser.parse_args()
    emit(machine(args.pg_url))
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database("postgres", workdir=Path(tmp), pg_url=args.pg_url) as url,
    ):
        services = wire(url)
        try:
            populate(services, args.accounts)
            emit(bulk_ledger(url, args.rows))
            emit(limit_checks(services, args.accounts, args.checks))
            emit(server_side(url, args.accounts, 300))
            team = traders(services)
            numbers = [f"U{9000000 + i}" for i in range(args.accounts)]
            for label, chosen in (
                ("one_account", numbers[:1]),
                ("many_accounts", numbers[1 : 1 + args.threads]),
            ):
                pg_before = postgres_cpu(url)
                line = throughput(
                    services,
                    team,
                    accounts=chosen,
                    seconds=args.seconds,
                    threads=args.threads,
                    label=label,
                )
                line["postgres_cpu_ms_per_withdrawal"] = server_cpu_ms(
                    pg_before, postgres_cpu(url), line["withdrawals"]
                )
                emit(line)
            if args.processes > 1:
                pg_before = postgres_cpu(url)
                line = throughput_processes(
                    url,
                    numbers[1 : 1 + args.threads],
                    seconds=args.seconds,
                    threads=args.threads,
                    processes=args.processes,
                )
                # includes the processes' logins (8 each), a few ms of PostgreSQL's CPU
                line["postgres_cpu_ms_per_withdrawal"] = server_cpu_ms(
                    pg_before, postgres_cpu(url), line["withdrawals"]
                )
                emit(line)
        finally:
            services.database.close()


if __name__ == "__main__":
    main()
