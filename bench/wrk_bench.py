"""Second-factor answers driven by ``wrk``, against the bare reference in the same run.

    python -m bench.wrk_bench [--quick] [--answers N] [--rounds R] [--connections C]
                              [--variants h11/asyncio,httptools/uvloop] [--full-seconds S]

One SQLite installation (``bench.fixture``), then for each server variant (HTTP parser /
event loop, ``SECURELOGIN_HTTP_PARSER`` / ``SECURELOGIN_EVENT_LOOP``): a ``securelogin
serve`` and the bare endpoint of ``bench/bare_app.py`` with the same parser and loop,
and ``R`` rounds of:

* ``N`` logins opened with the password step (httpx, outside the measured window), their
  correct OCRA answers written to a request file;
* ``wrk`` (``bench/wrk_answer.lua``, ``C`` connections) sends ``N`` bare answers, then the
  ``N`` securelogin answers (alternating which goes first): answers/s, p50/p99, and
  **server CPU per answer** from ``/proc/<pid>/stat`` of each server (the figure that the
  neighbours on a shared machine disturb least), and their ratio within the round.

Then ``full_login`` (password step + answer, httpx, ``S`` seconds, with 1 and with 4
clients): server CPU per login against the Argon2id CPU of one verify measured
in-process right before — alone, and with as many verifies at once as the server ran
(clients, at most the cores: concurrent 19-MiB hashes cost each other CPU) — the share
of the server's CPU that the hash is.  Needs ``wrk`` (``make bench`` installs it; skipped
with a message when absent).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import bare_app
from bench.fixture import (
    BIN,
    DEFAULT_PG_URL,
    PASSWORD,
    argon2_hasher,
    free_port,
    installation,
    process_cpu,
    running_server,
)
from bench.login_bench import Bench, argon2_cost

LUA = Path(__file__).with_name("wrk_answer.lua")


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_s: float
    errors: int

    def summary(self) -> dict[str, Any]:
        n = max(1, self.ok + self.failed)
        return {
            "count": self.ok + self.failed,
            "ok": self.ok,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "rps": round(n / max(self.seconds, 1e-9), 1),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "server_cpu_ms_per_op": round(self.cpu_s * 1000 / n, 3),
            "socket_errors": self.errors,
        }


def run_wrk(
    base_url: str, lines: list[str], *, connections: int, pid: int, workdir: Path
) -> WrkResult:
    """``wrk`` over the request lines; CPU of process ``pid`` (and children) meanwhile."""
    threads = min(2, connections)
    path = workdir / "requests.tsv"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    before = tree_cpu(pid)
    process = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            "300s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base_url,
            "--",
            str(path),
            str(threads),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    stopped, seen = 0, []
    for line in process.stdout:  # every thread says when its last answer came
        seen.append(line)
        stopped += line.startswith("WRKDONE")
        if stopped == threads:
            break
    used = tree_cpu(pid) - before
    process.send_signal(signal.SIGINT)  # ends wrk's sleep: it joins the threads, calls done()
    rest, errors = process.communicate(timeout=60)
    seen += rest.splitlines()
    found = [ln for ln in seen if ln.startswith("WRKJSON ")]
    if not found:
        raise RuntimeError(f"wrk gave no summary: {''.join(seen)[-2000:]} {errors[-2000:]}")
    raw = json.loads(found[-1].removeprefix("WRKJSON "))
    return WrkResult(
        ok=raw["ok"],
        failed=raw["failed"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        cpu_s=used,
        errors=raw["errors_connect"]
        + raw["errors_read"]
        + raw["errors_write"]
        + raw["errors_timeout"],
    )


def tree_cpu(pid: int) -> float:
    """user+system CPU of ``pid`` and its direct children (uvicorn's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    pids.append(int(entry))
    return sum(process_cpu(p) for p in pids)


@contextlib.contextmanager
def bare_server(workdir: Path, *, rows: int, http: str, loop: str) -> Iterator[tuple[str, int]]:
    """``bench/bare_app.py`` on a free port with ``rows`` fresh challenges."""
    port = free_port()
    db = workdir / "bare.db"
    log = workdir / f"bare-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "bench.bare_app",
                "--db",
                str(db),
                "--rows",
                str(rows),
                "--port",
                str(port),
                "--http",
                http,
                "--loop",
                loop,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"bare server exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url + "/healthz", timeout=2)  # 404 once it listens
                break
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def bare_lines(start: int, count: int) -> list[str]:
    return [
        f'/bare/c{n}/answer\t{{"response": "{bare_app.answer_of(n)}"}}'
        for n in range(start, start + count)
    ]


def answer_lines(opened: list[tuple[str, str]]) -> list[str]:
    return [f'/api/v1/logins/{lid}/answer\t{{"response": "{resp}"}}' for lid, resp in opened]


def run_variant(
    inst: Any,
    *,
    http: str,
    loop: str,
    answers: int,
    rounds: int,
    connections: int,
    full_seconds: float,
) -> list[dict[str, Any]]:
    env = {**inst.env, "SECURELOGIN_HTTP_PARSER": http, "SECURELOGIN_EVENT_LOOP": loop}
    labels = {"suite": "wrk", "db": "sqlite", "workers": 1, "http": http, "loop": loop}
    lines: list[dict[str, Any]] = []
    warm = 200
    with (
        bare_server(inst.workdir, rows=warm + answers * rounds, http=http, loop=loop) as (
            bare_url,
            bare_pid,
        ),
        running_server(url=inst.url, workers=1, env=env, workdir=inst.workdir) as server,
    ):
        bench = Bench(server, inst.users, labels)
        asyncio.run(bench.warm_up())
        run_wrk(
            bare_url,
            bare_lines(0, warm),
            connections=connections,
            pid=bare_pid,
            workdir=inst.workdir,
        )
        for r in range(1, rounds + 1):
            opened = asyncio.run(bench.open_logins(answers, r))
            bare_items = bare_lines(warm + (r - 1) * answers, answers)
            results: dict[str, WrkResult] = {}
            order = ["bare", "securelogin"] if r % 2 else ["securelogin", "bare"]
            for name in order:
                if name == "bare":
                    results[name] = run_wrk(
                        bare_url,
                        bare_items,
                        connections=connections,
                        pid=bare_pid,
                        workdir=inst.workdir,
                    )
                else:
                    results[name] = run_wrk(
                        server.base_url,
                        answer_lines(opened),
                        connections=connections,
                        pid=server.process.pid,
                        workdir=inst.workdir,
                    )
            for name, result in results.items():
                line = {"bench": "wrk", **labels, "target": name, "measure": "answer"}
                line.update(clients=connections, run=r, **result.summary())
                line["loadavg_1m"] = round(os.getloadavg()[0], 2)
                lines.append(line)
                print(json.dumps(line), flush=True)
            ratio = {
                "bench": "wrk_ratio",
                **labels,
                "run": r,
                "cpu_ratio_to_bare": round(
                    results["securelogin"].cpu_s / max(results["bare"].cpu_s, 1e-9), 2
                ),
            }
            lines.append(ratio)
            print(json.dumps(ratio), flush=True)
        if full_seconds > 0:
            cost = argon2_cost(12, parallel=False)
            for clients in (1, 4):
                asyncio.run(bench.full_logins(clients, full_seconds, 1, cost["argon2_bound_rps"]))
                line = bench.lines[-1]
                at_once = min(clients, os.cpu_count() or 1)
                concurrent = (
                    argon2_cpu_concurrent(at_once) if at_once > 1 else line["argon2_cpu_ms"]
                )
                line["argon2_cpu_ms_concurrent"] = concurrent
                for key, argon2_ms in (("", line["argon2_cpu_ms"]), ("_concurrent", concurrent)):
                    line[f"argon2_share_of_server_cpu{key}"] = round(
                        argon2_ms / max(line["server_cpu_ms_per_op"], 1e-9), 3
                    )
                lines.append(line)
    return lines


def argon2_cpu_concurrent(threads: int, verifies: int = 8) -> float:
    """CPU milliseconds of one Argon2id verify when ``threads`` verifies run at once, as
    the server's thread pool runs them for several clients (median per thread): on
    these cores two 19-MiB hashes at once share the caches and memory bandwidth, so
    each costs more CPU than one alone (``argon2_cost``)."""
    hasher = argon2_hasher()
    stored = hasher.hash(PASSWORD)
    start = threading.Barrier(threads)

    def work(_: int) -> float:
        start.wait()
        t0 = time.thread_time()
        for _ in range(verifies):
            hasher.verify(stored, PASSWORD)
        return (time.thread_time() - t0) / verifies

    with ThreadPoolExecutor(threads) as pool:
        per_thread = list(pool.map(work, range(threads)))
    return round(statistics.median(per_thread) * 1000, 2)


def table(lines: list[dict[str, Any]]) -> str:
    out = [
        "| http / loop | bare CPU ms/answer | securelogin CPU ms/answer | ratio (median of rounds) "
        "| bare answers/s, p99 ms | securelogin answers/s, p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    variants = sorted({(ln["http"], ln["loop"]) for ln in lines if ln.get("bench") == "wrk"})
    for http, loop in variants:

        def pick(target: str, key: str, h: str = http, lp: str = loop) -> float:
            found = [
                ln[key]
                for ln in lines
                if ln.get("bench") == "wrk"
                and ln["http"] == h
                and ln["loop"] == lp
                and ln["target"] == target
            ]
            return statistics.median(found)

        ratios = [
            ln["cpu_ratio_to_bare"]
            for ln in lines
            if ln.get("bench") == "wrk_ratio" and ln["http"] == http and ln["loop"] == loop
        ]
        out.append(
            f"| {http} / {loop} | {pick('bare', 'server_cpu_ms_per_op'):.3f} "
            f"| {pick('securelogin', 'server_cpu_ms_per_op'):.3f} "
            f"| {statistics.median(ratios):.2f} "
            f"({', '.join(f'{r:.2f}' for r in ratios)}) "
            f"| {pick('bare', 'rps'):.0f}, {pick('bare', 'p99_ms'):.1f} "
            f"| {pick('securelogin', 'rps'):.0f}, {pick('securelogin', 'p99_ms'):.1f} |"
        )
    full = [ln for ln in lines if ln.get("measure") == "full_login"]
    if full:
        out += [
            "",
            "| http / loop | clients | full logins/s | server CPU ms/login | Argon2id CPU ms: "
            "alone, as many at once as clients (≤ cores) | Argon2id share of server CPU: "
            "alone, at once |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {ln['http']} / {ln['loop']} | {ln['clients']} | {ln['rps']:.1f} "
            f"| {ln['server_cpu_ms_per_op']:.1f} "
            f"| {ln['argon2_cpu_ms']:.1f}, {ln['argon2_cpu_ms_concurrent']:.1f} "
            f"| {ln['argon2_share_of_server_cpu']:.2f}, "
            f"{ln['argon2_share_of_server_cpu_concurrent']:.2f} |"
            for ln in full
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(prog="python -m bench.wrk_bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 rounds of 400 answers, 4-s full logins")
    ap.add_argument("--answers", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--variants", default="h11/asyncio,httptools/uvloop")
    ap.add_argument("--full-seconds", type=float, default=None)
    ap.add_argument("--users", type=int, default=None, help="default: answers x rounds + 300")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if not have_wrk():
        print("# wrk_bench skipped: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return []
    answers = a.answers or (400 if a.quick else 1500)
    rounds = a.rounds or (2 if a.quick else 3)
    full_seconds = a.full_seconds if a.full_seconds is not None else (4.0 if a.quick else 10.0)
    lines: list[dict[str, Any]] = []
    users = a.users or min(2000, answers * rounds + 300)
    with installation("sqlite", users=users, pg_url=DEFAULT_PG_URL) as inst:
        print(f"# imported {users} users in {inst.import_seconds:.1f} s", file=sys.stderr)
        for variant in a.variants.split(","):
            http, _, loop = variant.partition("/")
            lines += run_variant(
                inst,
                http=http,
                loop=loop or "asyncio",
                answers=answers,
                rounds=rounds,
                connections=a.connections,
                full_seconds=full_seconds,
            )
    if a.out:
        with open(a.out, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(line) + "\n" for line in lines)
    print(table(lines))
    return lines


if __name__ == "__main__":
    main()
