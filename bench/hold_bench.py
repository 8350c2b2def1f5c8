"""10,000 pending push logins long-polled at once from one ``securelogin serve`` process
(issue 14, target 4): how long until the server holds every connection, and the server's
memory per waiting long-poll.

    python -m bench.hold_bench [--logins 10000] [--db postgres|sqlite] [--hold 20]

The logins and their pushes are created in-process (``bench.push_bench``: the product's
own service code); ``wrk`` (``bench/wrk_hold.lua``) opens one connection per login, all at
once, each a ``GET /api/v1/logins/{id}?wait=60``.  The connections established to the server's
port (``ss``) are sampled every 0.1 s from wrk's start until they cover every
login: "connected" is that time.  RSS before and while all wait gives the memory per
waiter; the server's CPU over the ramp is reported too.  The approval latency at this
scale is ``bench.push_bench``'s (its httpx load generator also measures the waves).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.fixture import DEFAULT_PG_URL, installation, running_server
from bench.push_bench import App, activate, open_logins, rss_mb
from securelogin.bootstrap import bootstrap, load_settings

LUA = Path(__file__).with_name("wrk_hold.lua")


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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.hold_bench", description=__doc__)
    ap.add_argument("--logins", type=int, default=10_000)
    ap.add_argument("--db", default="postgres", choices=["postgres", "sqlite"])
    ap.add_argument("--hold", type=float, default=20.0, help="seconds to hold after the ramp")
    ap.add_argument("--limit", type=float, default=120.0, help="give up the ramp after this")
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    a = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("# hold_bench skipped: wrk is not installed", file=sys.stderr)
        return {}
    with installation(a.db, users=1, pg_url=a.pg_url) as inst:
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        app = App()
        user_id = activate(services, inst.users[0].username, app)
        t0 = time.perf_counter()
        made = open_logins(services, user_id, a.logins)
        created = time.perf_counter() - t0
        services.database.close()
        requests = inst.workdir / "polls.txt"
        requests.write_text("".join(f"/api/v1/logins/{lid}?wait=60\n" for lid, _ in made))
        with running_server(url=inst.url, workers=1, env=inst.env, workdir=inst.workdir) as server:
            pids = server.pids()
            port = int(server.base_url.rpartition(":")[2])
            idle_rss, cpu0 = rss_mb(pids), server.cpu_seconds()
            threads = 2
            seconds = f"{int(a.limit + a.hold + 30)}s"
            command = ["wrk", "-t", str(threads), "-c", str(a.logins), "-d", seconds]
            command += ["--timeout", "120s", "-s", str(LUA), server.base_url, "--"]
            command += [str(requests), str(threads)]
            wrk = subprocess.Popen(
                command,
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
                time.sleep(a.hold)
                waiting_rss, held_after = rss_mb(pids), established(port)
            finally:
                wrk.send_signal(signal.SIGINT)
                out, _ = wrk.communicate(timeout=60)
    errors = [ln.strip() for ln in out.splitlines() if "error" in ln.lower()]
    figures = {
        "bench": "hold",
        "db": a.db,
        "pending_logins": a.logins,
        "create_seconds": round(created, 1),
        "seconds_until_all_connected": round(ramp, 2) if ramp is not None else None,
        "peak_connections_seen": peak,
        "connections_after_hold": held_after,
        "server_cpu_s_during_ramp": round(ramp_cpu, 2),
        "rss_mb_idle": idle_rss,
        "rss_mb_waiting": waiting_rss,
        "kb_per_waiting_long_poll": round((waiting_rss - idle_rss) * 1024 / a.logins, 1),
        "wrk_errors": errors,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    main()
