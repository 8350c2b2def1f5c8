"""The whole benchmark matrix (what ``make bench`` runs).

    python -m bench.run_all [--quick] [--no-privacyidea] [--repeat R] [--out FILE]

First the wrk figures of issue 14 (``bench.wrk_bench``: the second-factor answer's server
CPU against the bare endpoint in the same run, answers/s and p99 at 8 connections, the
Argon2id share of a full login; h11/asyncio against httptools/uvloop) and the scale-out
(``bench.scaleout_bench``: three nodes behind nginx on one PostgreSQL); then the httpx
matrix — SQLite and PostgreSQL, 1 and 2 workers, a few client counts, each repeated — and
the privacyIDEA comparison when its peer scripts can install it.

``--quick`` (≤ 5 minutes on the 2 shared cores): the wrk figures for the default server
only (2 rounds of 400 answers), the scale-out with LISTEN/NOTIFY (100 long-polls, 60
approvals), nothing else.  Every JSON line also goes to
``test-artifacts/bench/results-<UTC time>.jsonl``; the tables at the end give the best and
the median of the repeats, and the verdict on the targets of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import privacyidea_compare, report, scaleout_bench, wrk_bench
from bench.fixture import DEFAULT_PG_URL
from bench.login_bench import run_config

#: docs/performance.md "Targets"
TARGET_ANSWER_RPS = 1000
TARGET_ANSWER_P99_MS = 25
TARGET_BOUND_RATIO = 0.8


def machine(pg_url: str) -> dict[str, Any]:
    """nproc, CPU model, RAM, Python, PostgreSQL, date: the first line of every report."""
    info: dict[str, Any] = {"bench": "machine", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    info["nproc"] = os.cpu_count()
    with open("/proc/cpuinfo", encoding="utf-8") as cpu:
        models = [line.split(":", 1)[1].strip() for line in cpu if line.startswith("model name")]
    info["cpu_model"] = models[0] if models else platform.processor()
    with open("/proc/meminfo", encoding="utf-8") as mem:
        total_kib = int(mem.readline().split()[1])
    info["ram_gib"] = round(total_kib / 1024 / 1024, 1)
    info["python"] = platform.python_version()
    info["sqlite"] = __import__("sqlite3").sqlite_version
    try:
        with psycopg.connect(pg_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    except psycopg.Error as exc:
        info["postgresql"] = None
        info["postgresql_error"] = str(exc).strip().splitlines()[0]
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    info["commit"] = git.stdout.strip() or None
    return info


def verdict(lines: list[dict[str, Any]]) -> list[str]:
    """The targets against the best configuration (median of its repeats)."""
    rows = [r for r in report.summarize(lines) if r["bench"] == "securelogin"]
    answers = [r for r in rows if r["measure"] == "answer" and r["rps_median"]]
    full = [r for r in rows if r["measure"] == "full_login" and r["ratio_median"]]
    out = []
    if answers:
        best = max(answers, key=lambda r: r["rps_median"])
        ok = best["rps_median"] >= TARGET_ANSWER_RPS and best["p99_median"] <= TARGET_ANSWER_P99_MS
        fast = [r for r in answers if r["p99_median"] <= TARGET_ANSWER_P99_MS]
        out.append(
            f"second factor: best {best['rps_median']:.0f}/s ({best['db']}, {best['workers']} "
            f"worker(s), C={best['clients']}, p99 {best['p99_median']:.0f} ms); target "
            f">= {TARGET_ANSWER_RPS}/s with p99 <= {TARGET_ANSWER_P99_MS} ms: "
            + ("MET" if ok else "NOT MET")
            + f" ({len(fast)} of {len(answers)} configurations keep p99 <= 25 ms)"
        )
    if full:
        best = max(full, key=lambda r: r["ratio_median"])
        cpu = max((r["cpu_ratio"] or 0.0) for r in full)
        ok = best["ratio_median"] >= TARGET_BOUND_RATIO
        out.append(
            f"full logins: best {best['rps_median']:.1f}/s = {best['ratio_median']:.2f} of the "
            f"Argon2id bound ({best['db']}, {best['workers']} worker(s), C={best['clients']}); "
            f"target >= {TARGET_BOUND_RATIO}: "
            + ("MET" if ok else "NOT MET")
            + f"; without neighbours (CPU accounting) at most {cpu:.2f}"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1 repeat, fewer clients, short runs")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--no-privacyidea", action="store_true")
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    repeat = a.repeat or 3
    answer_clients, full_clients = [1, 8, 32], [4, 16]
    seconds, answers = 8.0, 500

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = Path(a.out or f"test-artifacts/bench/results-{stamp}.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    lines: list[dict[str, Any]] = [machine(a.pg_url)]
    print(json.dumps(lines[0]), flush=True)

    wrk_args = ["--quick", "--variants", "httptools/uvloop"] if a.quick else []
    wrk_lines = wrk_bench.main(wrk_args)
    lines += wrk_lines
    _save(out, lines)
    if lines[0]["postgresql"] is not None:
        scale_args = ["--pg-url", a.pg_url]
        scale_args += (
            ["--modes", "notify", "--logins", "100", "--approvals", "60"] if a.quick else []
        )
        lines += scaleout_bench.main(scale_args)
        _save(out, lines)
    if a.quick:
        lines.append({"bench": "machine_end", "loadavg": [round(x, 2) for x in os.getloadavg()]})
        _save(out, lines)
        if wrk_lines:
            print(wrk_bench.table(wrk_lines))
        print(f"\nJSON lines: {out}")
        return

    for db in a.databases.split(","):
        if db == "postgres" and lines[0]["postgresql"] is None:
            print(f"# PostgreSQL skipped: {lines[0].get('postgresql_error')}", file=sys.stderr)
            continue
        for workers in (int(w) for w in a.workers.split(",")):
            lines += run_config(
                db=db,
                workers=workers,
                answer_clients=answer_clients,
                full_clients=full_clients,
                seconds=seconds,
                answers=answers,
                repeat=repeat,
                users=2000,
                pg_url=a.pg_url,
            )
            _save(out, lines)
    if not a.no_privacyidea:
        lines += privacyidea_compare.compare(
            repeat=repeat, seconds=seconds + 2, answers=answers, users=2000
        )
    lines.append({"bench": "machine_end", "loadavg": [round(x, 2) for x in os.getloadavg()]})
    _save(out, lines)
    if wrk_lines:
        print(wrk_bench.table(wrk_lines))
        print()
    print(report.table(lines))
    if not a.no_privacyidea:
        print()
        print(privacyidea_compare.ratio_table(lines))
    print()
    print("\n".join(verdict(lines)))
    print(f"\nJSON lines: {out}")


def _save(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    main()
