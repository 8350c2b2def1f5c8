"""Where the memory of a waiting long-poll goes (issue 14, target 4: ≤ 16 KB each).

    python -m bench.waiter_memory [--waiters 1000] [--db sqlite|postgres]

The server runs in THIS process (the app ``securelogin serve`` runs, on uvicorn with
httptools and uvloop, as ``serve`` configures them) under ``tracemalloc``; ``wrk``
(``bench/wrk_hold.lua``, another process) opens one ``GET /api/v1/logins/{id}?wait=60``
per pending login.  After a warm-up round of the same requests (caches, the pool, the
first compiled statements), a snapshot is taken with no waiter, then another while
all of them wait: the difference, per waiter, grouped by the package whose code made
each allocation (the innermost Python frame), and the process's RSS difference beside
it (what ``tracemalloc`` does not see: allocations outside Python's allocator — the
kernel's socket buffers are not in RSS either).  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

import uvicorn
import uvloop

from bench.fixture import DEFAULT_PG_URL, free_port, installation
from bench.hold_bench import LUA, established
from bench.push_bench import App, activate, open_logins, rss_mb
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.api.waits import hubs
from securelogin.entrypoints.server import HttpToolsNoDelay
from securelogin.service.context import Services

PACKAGES = (
    "securelogin",
    "uvicorn",
    "httptools",
    "uvloop",
    "starlette",
    "fastapi",
    "anyio",
    "pydantic",
    "sqlalchemy",
    "psycopg",
)


def package_of(filename: str) -> str:
    parts = Path(filename).parts
    for name in PACKAGES:
        if name in parts:
            return name
    if "asyncio" in parts:
        return "asyncio (stdlib)"
    return "other"


def by_package(diff: list[tracemalloc.StatisticDiff], waiters: int) -> dict[str, float]:
    sizes: dict[str, int] = defaultdict(int)
    for stat in diff:
        sizes[package_of(stat.traceback[0].filename)] += stat.size_diff
    ordered = sorted(sizes.items(), key=lambda kv: -kv[1])
    return {name: round(size / waiters, 1) for name, size in ordered if abs(size) >= waiters}


def top_lines(
    diff: list[tracemalloc.StatisticDiff], waiters: int, n: int = 15, package: str = ""
) -> list[str]:
    found = []
    mine = [s for s in diff if not package or package_of(s.traceback[0].filename) == package]
    for stat in sorted(mine, key=lambda s: -s.size_diff)[:n]:
        frame = stat.traceback[0]
        where = "/".join(Path(frame.filename).parts[-2:])
        found.append(
            f"{stat.size_diff / waiters:8.1f} B/waiter {stat.count_diff / waiters:5.2f} "
            f"blocks/waiter  {where}:{frame.lineno}"
        )
    return found


async def until(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def hold(
    base: str, port: int, ids: Path, waiters: int, seconds: int, wait: int
) -> asyncio.subprocess.Process:
    """wrk holding a long-poll of ``wait`` s per login of ``ids`` until it is stopped."""
    process = await asyncio.create_subprocess_exec(
        *["wrk", "-t", "1", "-c", str(waiters), "-d", f"{seconds}s", "--timeout", "120s"],
        *["-s", str(LUA), base, "--", str(ids), "1", "", str(wait)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while established(port) < waiters and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return process


async def measure(
    app: Any, services: Services, requests: Path, warmup: Path, waiters: int
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=HttpToolsNoDelay,
        loop="none",
        lifespan="on",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )
    server = uvicorn.Server(config)
    serving = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    hub = hubs(services).logins
    try:
        # warm-up: the same number of long-polls, which end after 1 s
        warm = await hold(base, port, warmup, waiters, 4, wait=1)
        await warm.wait()
        await until(lambda: hub.waiting == 0 and hub.kept == 0, 60)  # the poller drops them
        gc.collect()
        rss0, before = rss_mb([os.getpid()]), tracemalloc.take_snapshot()
        started = time.monotonic()
        wrk = await hold(base, port, requests, waiters, 180, wait=60)
        await until(lambda: hub.waiting >= waiters, 150)  # every first read done
        ramp = time.monotonic() - started
        await asyncio.sleep(1)
        gc.collect()
        rss1, after = rss_mb([os.getpid()]), tracemalloc.take_snapshot()
        waiting, kept, held = hub.waiting, hub.kept, established(port)
        wrk.terminate()
        await wrk.wait()
    finally:
        server.should_exit = True
        await serving
    noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = after.filter_traces(noise).compare_to(before.filter_traces(noise), "lineno")
    traced = sum(s.size_diff for s in diff)
    chains = []
    if tracemalloc.get_traceback_limit() > 1:
        by_chain = after.filter_traces(noise).compare_to(before.filter_traces(noise), "traceback")
        for stat in sorted(by_chain, key=lambda s: -s.size_diff)[:12]:
            frames = [f"{'/'.join(Path(f.filename).parts[-2:])}:{f.lineno}" for f in stat.traceback]
            chains.append(f"{stat.size_diff / waiters:.0f} B/waiter: " + " < ".join(frames))
    return {
        "waiters": waiters,
        "held_connections": held,
        "hub_waiting": waiting,
        "kept_answers": kept,
        "seconds_until_all_waiting_traced": round(ramp, 1),
        "rss_kb_per_waiter": round((rss1 - rss0) * 1024 / waiters, 1),
        "traced_b_per_waiter": round(traced / waiters, 1),
        "traced_b_per_waiter_by_package": by_package(diff, waiters),
        "top_lines": top_lines(diff, waiters),
        "top_lines_securelogin": top_lines(diff, waiters, 12, "securelogin"),
        "top_chains": chains,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.waiter_memory", description=__doc__)
    ap.add_argument("--waiters", type=int, default=1000)
    ap.add_argument("--db", default="sqlite", choices=["postgres", "sqlite"])
    ap.add_argument(
        "--frames", type=int, default=1, help="> 1: also the top allocation call chains"
    )
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    a = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("# waiter_memory skipped: wrk is not installed", file=sys.stderr)
        return {}
    with installation(a.db, users=1, pg_url=a.pg_url) as inst:
        os.environ["SECURELOGIN_MASTER_KEY"] = inst.env["SECURELOGIN_MASTER_KEY"]
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        app = App()
        user_id = activate(services, inst.users[0].username, app)
        made = open_logins(services, user_id, 2 * a.waiters)
        requests, warmup = inst.workdir / "polls.txt", inst.workdir / "warmup.txt"
        requests.write_text("".join(f"{i}\n" for i, _ in made[: a.waiters]))
        warmup.write_text("".join(f"{i}\n" for i, _ in made[a.waiters :]))
        asgi = create_app(services, threads=settings.threads)
        tracemalloc.start(a.frames)
        figures = uvloop.run(measure(asgi, services, requests, warmup, a.waiters))
        tracemalloc.stop()
        services.database.close()
    figures |= {
        "bench": "waiter_memory",
        "db": a.db,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(figures, indent=1), flush=True)
    return figures


if __name__ == "__main__":
    main()
