"""Where a second-factor answer's CPU goes: cProfile of ``POST /api/v1/logins/{id}/answer``
through the real ASGI app, in-process, grouped by package.

    python -m bench.profile_answer [--answers 400] [--db sqlite|postgres] [--top 25]
                                   [--step answer|password]

A fresh installation (``bench.fixture``); the logins are opened with the password step
outside the profile (Argon2id is measured elsewhere); then the answers run twice as many
times as asked: the first half without the profiler (the thread's CPU per answer: the
figure to compare), the second half under cProfile, driven through
``httpx.ASGITransport`` (no socket: uvicorn's share is the wrk figure minus this one).
``--step password`` profiles ``POST /api/v1/logins`` (the password step) the same way,
its Argon2id verify listed as its own group.  The client's own frames (httpx, httpcore,
asyncio's loop) are listed as ``client/loop``.  Blocking work runs inline on the
profiled thread (cProfile sees one thread; ``anyio.to_thread.run_sync`` is replaced for
the run), so the thread pool's hand-over is not in the figures.  Prints the share of own
time per group and the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from typing import Any

import anyio.to_thread
import httpx

from bench.fixture import DEFAULT_PG_URL, PASSWORD, installation
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.entrypoints.api.app import create_app

GROUPS = [
    ("sqlalchemy", "sqlalchemy"),
    ("psycopg", "database driver"),
    ("sqlite3", "database driver"),
    ("fastapi", "fastapi/starlette"),
    ("starlette", "fastapi/starlette"),
    ("pydantic", "pydantic"),
    ("anyio", "threads (anyio)"),
    ("concurrent", "threads (anyio)"),
    ("threading", "threads (anyio)"),
    ("securelogin/adapters/db", "securelogin: db adapters"),
    ("securelogin/service", "securelogin: services"),
    ("securelogin/domain", "securelogin: domain"),
    ("securelogin/entrypoints", "securelogin: entry points"),
    ("securelogin/adapters", "securelogin: other adapters"),
    ("cryptography", "crypto"),
    ("hmac", "crypto"),
    ("httpx", "client/loop"),
    ("httpcore", "client/loop"),
    ("asyncio", "client/loop"),
    ("selectors", "client/loop"),
]


def group_of(filename: str, function: str = "") -> str:
    if "argon2" in function:
        return "Argon2id"
    for needle, name in GROUPS:
        if f"/{needle}/" in filename or filename.endswith(f"/{needle}.py"):
            return name
    if filename.startswith("<") or filename == "~":
        return "builtins (C calls)"
    return "other"


async def run(
    app: Any, users: list[Any], count: int, profile: cProfile.Profile, *, step: str
) -> float:
    """``count`` requests of ``step`` without the profiler, then ``count`` under it;
    the thread CPU seconds of the first ``count`` (after 20 warm-up requests)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def password_step(user: Any) -> tuple[str, str]:
            body = {"username": user.username, "password": PASSWORD, "platform": "portal"}
            got = await client.post("/api/v1/logins", json=body)
            assert got.status_code == 201, got.text
            found = got.json()
            challenge = found["factor"]["prompt"]["challenge"]
            return found["login_id"], user.answer(challenge)

        async def answer(item: tuple[str, str]) -> None:
            login_id, response = item
            got = await client.post(
                f"/api/v1/logins/{login_id}/answer", json={"response": response}
            )
            assert got.status_code == 200, got.text

        warm, plain, profiled = users[:20], users[20 : 20 + count], users[20 + count :]
        if step == "password":
            for user in warm:  # caches, compiled statements
                await password_step(user)
            t0 = time.thread_time()
            for user in plain:
                await password_step(user)
            cpu = time.thread_time() - t0
            profile.enable()
            for user in profiled:
                await password_step(user)
            profile.disable()
            return cpu
        opened = [await password_step(user) for user in users]
        for item in opened[:20]:
            await answer(item)
        t0 = time.thread_time()
        for item in opened[20 : 20 + count]:
            await answer(item)
        cpu = time.thread_time() - t0
        profile.enable()
        for item in opened[20 + count :]:
            await answer(item)
        profile.disable()
        return cpu


async def inline(func: Any, *args: Any, **_: Any) -> Any:
    """``anyio.to_thread.run_sync`` on the calling thread (for the profiler only)."""
    return func(*args)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.profile_answer", description=__doc__)
    ap.add_argument("--answers", type=int, default=400)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--step", default="answer", choices=["answer", "password"])
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURELOGIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    a = ap.parse_args(argv)
    with installation(a.db, users=2 * a.answers + 20, pg_url=a.pg_url) as inst:
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        profile = cProfile.Profile(time.thread_time)  # CPU, not wall: the machine is shared
        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        app = create_app(services)
        cpu = asyncio.run(
            run(app, inst.users[: 2 * a.answers + 20], a.answers, profile, step=a.step)
        )
        services.database.close()
    stats = pstats.Stats(profile)
    own: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[group_of(filename, name)] += tottime
        total += tottime
    what = "password steps" if a.step == "password" else "answers"
    print(
        f"# {a.answers} {what}, {a.db}: thread CPU {cpu * 1000 / a.answers:.2f} ms per request "
        f"in-process without the profiler (client included); under the profiler "
        f"{total * 1000 / a.answers:.2f} ms of own time, shared out as follows"
    )
    print("| group | share of own time |\n|---|---|")
    for name, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {seconds / total:.1%} |")
    out = io.StringIO()
    found = pstats.Stats(profile, stream=out).sort_stats("tottime")
    found.print_stats(a.top)
    found.print_callers("_find_and_load")
    print(out.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    main()
