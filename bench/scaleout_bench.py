"""Scale-out (issue 14): three ``securelogin serve`` processes behind nginx on loopback,
sharing one PostgreSQL; an approval recorded by one node wakes the long-poll held by
another.

    python -m bench.scaleout_bench [--nodes 3] [--logins 300] [--approvals 200]
                                   [--modes notify,redis,poll,throughput] [--pg-url URL]

For each mode — ``notify`` (the default: PostgreSQL LISTEN/NOTIFY), ``redis``
(``SECURELOGIN_REDIS_URL``, a ``redis-server`` started here) and ``poll``
(``SECURELOGIN_LISTEN_NOTIFY=false``: only the 0.5-s poller, the control) — the nodes are
started on one fresh database, ``--logins`` pending push logins are created in-process
(``bench.push_bench``: the product's own service code) and long-polled through nginx
(round robin), then ``--approvals`` of them are approved one by one through nginx with the
app's signed call.  nginx adds ``X-Upstream`` (the node that answered) to every answer,
so each sample is known to be *across* nodes (approval on one, long-poll held by another)
or on the same node; the figure is the time from the approval's 200 to the long-poll's
``authenticated``, p50/p95/p99 per mode and kind.

``throughput``: the same nodes, two nginx fronts (node 1 alone; all the nodes), and wrk
reading login states (``GET /api/v1/logins/{id}``, no wait) through each front in turn
for ``--seconds``, ``--rounds`` times, alternating which goes first: reads/s, p99, and the
servers' and PostgreSQL backends' CPU per read, with their ratios (issue 14, target 5:
throughput grows with the processes, CPU per operation unchanged).

Needs nginx (``make bench`` installs it; skipped with a message when absent) and
PostgreSQL (``SECURELOGIN_TEST_POSTGRES_URL`` or the default URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.fixture import (
    DEFAULT_PG_URL,
    PgBackendsCpu,
    Server,
    free_port,
    installation,
    running_server,
)
from bench.hold_bench import LUA
from bench.push_bench import App, activate, open_logins, pct, pushes_of
from securelogin.bootstrap import bootstrap, load_settings


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


NGINX_CONF = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream securelogin {{
{servers}
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://securelogin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_read_timeout 120s;
            proxy_buffering off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(binary: str, upstreams: list[str], workdir: Path) -> Iterator[str]:
    """nginx on a free loopback port in front of ``upstreams`` (``host:port``)."""
    prefix = workdir / "nginx"
    prefix.mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=port,
            servers="\n".join(f"        server {u};" for u in upstreams),
        )
    )
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(prefix / 'error.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)


async def measure(
    base: str, app: App, logins: list[tuple[str, str]], pushes: dict[str, Any], approvals: int
) -> dict[str, Any]:
    done: dict[str, tuple[float, str]] = {}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(logins) + 10, max_keepalive_connections=None)
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as polls,
        httpx.AsyncClient(base_url=base, timeout=120) as answers,
    ):

        async def long_poll(login_id: str) -> None:
            while True:
                try:
                    got = await polls.get(f"/api/v1/logins/{login_id}", params={"wait": 60})
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    await asyncio.sleep(0.5)
                    continue
                if got.status_code == 200 and got.json()["status"] != "challenge":
                    done[login_id] = (time.perf_counter(), got.headers.get("x-upstream", "?"))
                    return

        tasks = [asyncio.create_task(long_poll(lid)) for lid, _ in logins]
        await asyncio.sleep(3)  # every long-poll has arrived and waits
        cross: list[float] = []
        same: list[float] = []
        nodes_used: set[str] = set()
        # in random order: nginx's round robin would otherwise send approval k to the node
        # that holds long-poll k (both counted from 0), and nothing would cross nodes
        for login_id, number in random.sample(logins[:approvals], approvals):
            pushed = pushes[login_id]
            body = app.answer(pushed, number)
            path = f"/api/v1/key/pushes/{pushed['push_id']}/answer"
            answered = await answers.post(
                path, content=body, headers=app.signed("POST", path, body)
            )
            approved = time.perf_counter()
            if answered.status_code != 200:
                errors.append(f"answer http {answered.status_code}")
                continue
            by = answered.headers.get("x-upstream", "?")
            deadline = approved + 30
            while login_id not in done and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            if login_id not in done:
                errors.append("not completed in 30 s")
                continue
            at, held_by = done[login_id]
            nodes_used.update((by, held_by))
            (same if by == held_by else cross).append((at - approved) * 1000)
            await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "across_nodes_approval_to_complete_ms": pct(cross),
        "same_node_approval_to_complete_ms": pct(same),
        "nodes_seen": sorted(nodes_used),
        "client_errors": len(errors),
        "client_error_kinds": sorted(set(errors)),
    }


def run_mode(mode: str, *, nodes: int, logins: int, approvals: int, pg_url: str) -> dict[str, Any]:
    binary = nginx_binary()
    assert binary is not None
    with installation("postgres", users=1, pg_url=pg_url) as inst, contextlib.ExitStack() as stack:
        env = dict(inst.env)
        if mode == "poll":
            env["SECURELOGIN_LISTEN_NOTIFY"] = "false"
        if mode == "redis":
            redis_url = stack.enter_context(redis_server(inst.workdir))
            if redis_url is None:
                return {"mode": mode, "skipped": "redis-server is not installed"}
            env["SECURELOGIN_REDIS_URL"] = redis_url
        settings = load_settings(database_url=inst.url, master_key=env["SECURELOGIN_MASTER_KEY"])
        services = bootstrap(settings)
        app = App()
        user_id = activate(services, inst.users[0].username, app)
        made = open_logins(services, user_id, logins)
        pushes = {lid: pushed for lid, pushed, _ in pushes_of(services, app, made[:approvals])}
        services.database.close()
        servers: list[Server] = [
            stack.enter_context(
                running_server(url=inst.url, workers=1, env=env, workdir=inst.workdir)
            )
            for _ in range(nodes)
        ]
        upstreams = [s.base_url.removeprefix("http://") for s in servers]
        base = stack.enter_context(nginx(binary, upstreams, inst.workdir))
        cpu_before = [s.cpu_seconds() for s in servers]
        figures = asyncio.run(measure(base, app, made, pushes, approvals))
        figures["server_cpu_s"] = [
            round(s.cpu_seconds() - b, 2) for s, b in zip(servers, cpu_before, strict=True)
        ]
    return {"mode": mode, "nodes": nodes, "pending_logins": logins, **figures}


def wrk_reads(base: str, ids: Path, *, seconds: int, connections: int) -> dict[str, float]:
    """``GET /api/v1/logins/{id}`` (no wait: one state read each) for ``seconds`` with
    wrk (``wrk_hold.lua`` with a wait of 0), through ``base``."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(LUA), base, "--", str(ids), "2", "", "0"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    answered = re.search(r"(\d+) requests in", out)
    others = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(answered.group(1)) if answered else 0,
        "p99_ms": round(ms(*p99.groups()), 1) if p99 else -1.0,
        "non_2xx": int(others.group(1)) if others else 0,
    }


def throughput(
    *, nodes: int, logins: int, pg_url: str, seconds: int, rounds: int, connections: int
) -> dict[str, Any]:
    """Throughput and CPU per operation with one node and with ``nodes`` behind nginx, in
    the same run on the same database (rounds alternate which goes first): wrk reads
    login states through nginx in front of node 1 alone, then of all the nodes."""
    binary = nginx_binary()
    assert binary is not None
    with installation("postgres", users=1, pg_url=pg_url) as inst, contextlib.ExitStack() as stack:
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        user_id = activate(services, inst.users[0].username, App())
        ids = inst.workdir / "logins.txt"
        ids.write_text("".join(f"{lid}\n" for lid, _ in open_logins(services, user_id, logins)))
        services.database.close()
        servers: list[Server] = [
            stack.enter_context(
                running_server(url=inst.url, workers=1, env=inst.env, workdir=inst.workdir)
            )
            for _ in range(nodes)
        ]
        upstreams = [s.base_url.removeprefix("http://") for s in servers]
        fronts = {}
        for n in (1, nodes):
            work = inst.workdir / f"front-{n}"
            work.mkdir()
            fronts[n] = stack.enter_context(nginx(binary, upstreams[:n], work))
        db = PgBackendsCpu(inst.url.rpartition("/")[2])
        runs: dict[int, list[dict[str, float]]] = {1: [], nodes: []}
        for r in range(rounds):
            for n in (1, nodes) if r % 2 == 0 else (nodes, 1):
                server0, db0 = sum(s.cpu_seconds() for s in servers), db()
                got = wrk_reads(fronts[n], ids, seconds=seconds, connections=connections)
                done = max(1, got["requests"])
                server_cpu = sum(s.cpu_seconds() for s in servers) - server0
                runs[n].append(
                    got
                    | {
                        "reads_per_s": round(got["requests"] / seconds, 1),
                        "server_cpu_ms_per_read": round(server_cpu * 1000 / done, 3),
                        "db_cpu_ms_per_read": round((db() - db0) * 1000 / done, 3),
                        "loadavg_1min": round(os.getloadavg()[0], 2),
                    }
                )

    def median(n: int, key: str) -> float:
        return float(statistics.median(run[key] for run in runs[n]))

    return {
        "mode": "throughput",
        "nodes": nodes,
        "connections": connections,
        "seconds_per_run": seconds,
        "runs_1_node": runs[1],
        f"runs_{nodes}_nodes": runs[nodes],
        "reads_per_s_ratio": round(
            median(nodes, "reads_per_s") / max(1e-9, median(1, "reads_per_s")), 2
        ),
        "server_cpu_per_read_ratio": round(
            median(nodes, "server_cpu_ms_per_read")
            / max(1e-9, median(1, "server_cpu_ms_per_read")),
            2,
        ),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(prog="python -m bench.scaleout_bench", description=__doc__)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--logins", type=int, default=300)
    ap.add_argument("--approvals", type=int, default=200)
    ap.add_argument("--modes", default="notify,redis,poll,throughput")
    ap.add_argument("--seconds", type=int, default=10, help="throughput: seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=2, help="throughput: runs per node count")
    ap.add_argument("--connections", type=int, default=16, help="throughput: wrk connections")
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if nginx_binary() is None:
        print(
            "# scaleout_bench skipped: nginx is not installed (apt-get install -y nginx)",
            file=sys.stderr,
        )
        return []
    lines = []
    for mode in a.modes.split(","):
        if mode == "throughput":
            figures = throughput(
                nodes=a.nodes,
                logins=a.logins,
                pg_url=a.pg_url,
                seconds=a.seconds,
                rounds=a.rounds,
                connections=a.connections,
            )
        else:
            figures = run_mode(
                mode, nodes=a.nodes, logins=a.logins, approvals=a.approvals, pg_url=a.pg_url
            )
        line = {
            "bench": "scaleout",
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
            **figures,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(line), flush=True)
        lines.append(line)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(line) + "\n" for line in lines)
    return lines


if __name__ == "__main__":
    main()
