"""10,000 pending push logins long-polled at once from one ``securelogin serve`` process
(issue 14, target 4): how long until the server holds every connection, its CPU per
long-poll and memory per waiting long-poll, then approvals sent on a schedule across the
re-poll waves and the time each takes to complete its long-poll.

    python -m bench.hold_bench [--logins 10000] [--db postgres|sqlite] [--approvals 300]

The logins and their pushes are created in-process (``bench.push_bench``: the product's
own service code).  ``wrk`` (``bench/wrk_hold.lua``) opens one connection per login, all
at once, each a ``GET /api/v1/logins/{id}?wait=60``, re-polls a login whose wait ended
and logs the time of every answer.  The connections established to the server's port
(``ss``) are sampled every 0.1 s from wrk's start until they cover every login:
"connected" is that time; then until the server's CPU idles (its first reads done):
the CPU from wrk's start to then, per long-poll, is the CPU per long-poll.
RSS before and while all wait gives the memory per waiter.

Then ``--approvals`` of the held logins are approved through the app's signed call, one
every ``--spread``/``--approvals`` seconds, each from its own task so that a slow one
does not delay the next; their 200 and the ``authenticated`` answer wrk logs are both
taken on CLOCK_MONOTONIC.  Long-poll timeouts are jittered (80–100 % of 60 s), so the
re-polls come in waves about a minute apart; the approvals span at least one, and the
waves are reported (seconds with ≥ 1/20 of the logins re-polling), with the latency of
the approvals sent within 2 s of a wave apart from the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.fixture import DEFAULT_PG_URL, installation, running_server
from bench.push_bench import (
    WAVE_MARGIN,
    App,
    activate,
    find_waves,
    open_logins,
    pct,
    pushes_of,
    rss_mb,
)
from securelogin.bootstrap import bootstrap, load_settings

LUA = Path(__file__).with_name("wrk_hold.lua")
THREADS = 2


def established(port: int) -> int:
    """TCP connections established to the server's port (its pooled database connections
    and other files do not count)."""
    got = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    )
    return len(got.stdout.splitlines())


def wrk_command(base: str, connections: int, ids: Path, log: Path, seconds: float) -> list[str]:
    command = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{int(seconds)}s"]
    command += ["--timeout", "120s", "-s", str(LUA), base, "--", str(ids), str(THREADS)]
    return [*command, str(log)]


async def approve(
    base: str,
    app: App,
    chosen: list[tuple[str, dict[str, Any], str]],
    spread: float,
) -> list[dict[str, Any]]:
    """Approve each (login id, push, number) at its time; (login, sent ns, 200 ns)."""
    sent: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one(login_id: str, pushed: dict[str, Any], number: str, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            body = app.answer(pushed, number)
            path = f"/api/v1/key/pushes/{pushed['push_id']}/answer"
            headers = app.signed("POST", path, body)
            began = time.monotonic_ns()
            try:
                got = await client.post(path, content=body, headers=headers)
                status: int | str = got.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            sent.append(
                {"login": login_id, "sent": began, "ok": time.monotonic_ns(), "status": status}
            )

        start = time.monotonic() + 0.5
        step = spread / max(1, len(chosen))
        await asyncio.gather(
            *(one(lid, p, n, start + k * step) for k, (lid, p, n) in enumerate(chosen))
        )
    return sent


def read_logs(log: Path) -> tuple[list[float], dict[str, int], list[str]]:
    """wrk's answers: re-poll times (s), completion per login (ns), other answers."""
    repolls: list[float] = []
    completed: dict[str, int] = {}
    errors: list[str] = []
    for part in log.parent.glob(log.name + "-*.txt"):
        for line in part.read_text().splitlines():
            kind, at, *rest = line.split()
            if kind == "C":
                repolls.append(int(at) / 1e9)
            elif kind == "A":
                completed.setdefault(rest[0], int(at))
            else:
                errors.append(rest[0] if rest else "?")
    return repolls, completed, errors


def latencies(
    approvals: list[dict[str, Any]], completed: dict[str, int], waves: list[Any]
) -> dict[str, Any]:
    def near(at_s: float, wave: tuple[float, float, int]) -> bool:
        return wave[0] - WAVE_MARGIN <= at_s <= wave[1] + WAVE_MARGIN

    every: list[float] = []
    from_send: list[float] = []
    in_wave: list[float] = []
    away: list[float] = []
    missing = 0
    for a in approvals:
        done = completed.get(a["login"])
        if a["status"] != 200 or done is None:
            missing += 1
            continue
        ms = (done - a["ok"]) / 1e6
        every.append(ms)
        from_send.append((done - a["sent"]) / 1e6)
        (in_wave if any(near(a["sent"] / 1e9, w) for w in waves) else away).append(ms)
    return {
        "approval_to_complete_ms": pct(every),
        "answer_sent_to_complete_ms": pct(from_send),
        "near_wave_approval_to_complete_ms": pct(in_wave),
        "away_from_waves_approval_to_complete_ms": pct(away),
        "approvals_not_completed": missing,
        "approval_statuses": sorted({str(a["status"]) for a in approvals}),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.hold_bench", description=__doc__)
    ap.add_argument("--logins", type=int, default=10_000, help="long-polls held at once")
    ap.add_argument("--db", default="postgres", choices=["postgres", "sqlite"])
    ap.add_argument("--approvals", type=int, default=300)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds after the ramp")
    ap.add_argument(
        "--spread", type=float, default=100.0, help="seconds the approvals are spread over"
    )
    ap.add_argument("--limit", type=float, default=120.0, help="give up the ramp after this")
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    a = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("# hold_bench skipped: wrk is not installed", file=sys.stderr)
        return {}
    load = [os.getloadavg()[0]]
    with installation(a.db, users=1, pg_url=a.pg_url) as inst:
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        app = App()
        user_id = activate(services, inst.users[0].username, app)
        t0 = time.perf_counter()
        # the held logins, then one more per approval for the connection it frees
        made = open_logins(services, user_id, a.logins + a.approvals)
        created = time.perf_counter() - t0
        picked = random.Random(14).sample(made[: a.logins], min(a.approvals, a.logins))
        chosen = pushes_of(services, app, picked)
        services.database.close()
        ids, log = inst.workdir / "logins.txt", inst.workdir / "answers"
        ids.write_text("".join(f"{lid}\n" for lid, _ in made))
        with running_server(url=inst.url, workers=1, env=inst.env, workdir=inst.workdir) as server:
            pids = server.pids()
            port = int(server.base_url.rpartition(":")[2])
            idle_rss, cpu0 = rss_mb(pids), server.cpu_seconds()
            seconds = a.limit + a.settle + a.spread + 60
            wrk = subprocess.Popen(
                wrk_command(server.base_url, a.logins, ids, log, seconds),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started, ramp, peak = time.perf_counter(), None, 0
            try:
                while time.perf_counter() - started < a.limit:
                    held = established(port)
                    peak = max(peak, held)
                    if held >= a.logins:
                        ramp = time.perf_counter() - started
                        break
                    time.sleep(0.1)
                ramp_cpu = server.cpu_seconds() - cpu0
                # the first reads end after the connections: until the server idles
                # (< 20 % of a core over half a second; the poller's passes cost less)
                busy, last = time.perf_counter(), server.cpu_seconds()
                while time.perf_counter() - busy < 60:
                    time.sleep(0.5)
                    now_cpu = server.cpu_seconds()
                    if now_cpu - last < 0.1:
                        break
                    last = now_cpu
                served = time.perf_counter() - started
                served_cpu = server.cpu_seconds() - cpu0
                time.sleep(a.settle)
                waiting_rss, held_after = rss_mb(pids), established(port)
                load.append(os.getloadavg()[0])
                cpu1 = server.cpu_seconds()
                approvals = asyncio.run(approve(server.base_url, app, chosen, a.spread))
                approvals_cpu = server.cpu_seconds() - cpu1
                time.sleep(3)
                held_end = established(port)
            finally:
                wrk.send_signal(signal.SIGINT)
                out, _ = wrk.communicate(timeout=60)
        repolls, completed, errors = read_logs(log)
    load.append(os.getloadavg()[0])
    waves = find_waves(repolls, a.logins)
    first = min(x["sent"] for x in approvals) / 1e9 if approvals else 0.0
    figures = {
        "bench": "hold",
        "db": a.db,
        "pending_logins": a.logins,
        "create_seconds": round(created, 1),
        "seconds_until_all_connected": round(ramp, 2) if ramp is not None else None,
        "peak_connections_seen": peak,
        "connections_after_settle": held_after,
        "connections_at_end": held_end,
        "server_cpu_s_during_ramp": round(ramp_cpu, 2),
        "seconds_until_server_idle": round(served, 2),
        "server_cpu_s_until_idle": round(served_cpu, 2),
        "server_cpu_ms_per_long_poll": round(served_cpu * 1000 / a.logins, 3),
        "rss_mb_idle": idle_rss,
        "rss_mb_waiting": waiting_rss,
        "kb_per_waiting_long_poll": round((waiting_rss - idle_rss) * 1024 / a.logins, 1),
        "approvals": len(approvals),
        "server_cpu_s_during_approvals": round(approvals_cpu, 2),
        **latencies(approvals, completed, waves),
        "repolls": len(repolls),
        "repoll_waves": [
            {
                "from_s": round(w[0] - first, 1),
                "to_s": round(w[1] - first, 1),
                "repolls": w[2],
                "approvals_sent_near": sum(
                    w[0] - WAVE_MARGIN <= x["sent"] / 1e9 <= w[1] + WAVE_MARGIN for x in approvals
                ),
            }
            for w in waves
        ],
        "wrk_other_answers": {s: errors.count(s) for s in sorted(set(errors))},
        "wrk_socket_errors": [ln.strip() for ln in out.splitlines() if "error" in ln.lower()],
        "loadavg_1min_start_settle_end": [round(x, 2) for x in load],
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    main()
