"""Push logins at scale (R-KEY-4, R-LOGIN-5): one ``securelogin serve`` process holds
``--logins`` pending push logins, each long-polled by ``GET /api/v1/logins/{id}?wait=60``;
then ``--approvals`` pushes are approved one by one through the signed app call, and the
time from the approval's answer to the long-poll returning ``authenticated`` is measured.

    python -m bench.push_bench --db sqlite|postgres [--logins 10000] [--approvals 300]

The long-polls are all connected within seconds, so they all time out and re-poll within
the same second or so every 60 s (as real apps do after a network blip).  The approvals
are spread over ``--spread`` seconds (default 75) so that at least one such re-poll wave
falls among them; approvals sent within 2 s of a wave are also reported apart.

Prints one JSON object: server RSS before, while the long-polls wait and at the end, and
the latency percentiles (target p99 <= 50 ms).  The logins and their pushes are created in-process
through the product's own service code (``factors.open_ceremony``), skipping the
password step (its Argon2id cost is measured by bench.login_bench, not here).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.fixture import DEFAULT_PG_URL, installation, running_server
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.domain.push import answer_payload, canonical_json, request_digest
from securelogin.service.ceremony import factors
from securelogin.service.ceremony.outcomes import Purpose
from securelogin.service.context import Services
from securelogin.service.login import mobile_key

RECOVERY_PIN = "b3nch!"
POLLS_PER_CLIENT = 500
#: an approval sent within this many seconds of a re-poll wave counts as "in the wave"
WAVE_MARGIN = 2.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class App:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.app_id = ""

    def public(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def sign(self, message: bytes) -> str:
        return b64url(self.key.sign(message, ec.ECDSA(hashes.SHA256())))

    def signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        text = f"{method}\n{path}\n{stamp}\n{hashlib.sha256(body).hexdigest()}".encode()
        return {
            "X-SL-App": self.app_id,
            "X-SL-Time": stamp,
            "X-SL-Signature": self.sign(text),
            "Content-Type": "application/json",
        }

    def answer(self, pushed: dict[str, Any], number: str) -> bytes:
        payload = answer_payload(
            push_id=str(pushed["push_id"]),
            request=request_digest(pushed),
            decision="approve",
            number=number,
            not_me=False,
        )
        body = {"decision": "approve", "number": number, "not_me": False}
        return canonical_json(body | {"signature": self.sign(payload)})


def activate(services: Services, username: str, app: App) -> int:
    """A mobile key for the bench user through the QR path (the portal session's part
    is played by inserting the one-time activation directly)."""
    now = services.clock.now()
    with services.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        uow.mobile_keys.add_activation(
            activation_id="kq_bench",
            user_id=user.id,
            method="qr",
            now=now,
            expires_at=now + timedelta(minutes=10),
        )
        uow.commit()
    enrolled = mobile_key.complete_activation(
        services, "kq_bench", code=None, public_key=app.public(), recovery_pin=RECOVERY_PIN
    )
    app.app_id = enrolled.app_id
    return user.id


def open_logins(services: Services, user_id: int, count: int) -> list[tuple[str, str]]:
    """``count`` pending push logins: (login id, number on the screen)."""
    made: list[tuple[str, str]] = []
    now = datetime.now(UTC)
    expires = now + timedelta(hours=1)
    while len(made) < count:
        with services.uow() as uow:
            device = next(
                d
                for d in uow.device_access.of_user(user_id)
                if d.kind == "mobile_key" and d.state == "active"
            )
            for _ in range(min(500, count - len(made))):
                login_id = "lg_" + b64url(os.urandom(16))
                ceremony, factor = factors.open_ceremony(
                    services,
                    uow,
                    purpose=Purpose.LOGIN,
                    subject=login_id,
                    user_id=user_id,
                    device=device,
                    expires_at=expires,
                    now=now,
                    platform="portal",
                )
                uow.logins.add(
                    login_id=login_id,
                    user_id=user_id,
                    platform="portal",
                    ceremony_id=ceremony.id,
                    now=now,
                    expires_at=expires,
                )
                assert factor.prompt.number is not None
                made.append((login_id, factor.prompt.number))
            uow.commit()
    return made


def pushes_of(
    services: Services, app: App, logins: list[tuple[str, str]]
) -> list[tuple[str, dict[str, Any], str]]:
    """(login id, its signed pending push, number) of each (login id, number)."""
    with services.uow() as uow:
        row = uow.mobile_keys.app(app.app_id)
        assert row is not None
        # a push names its ceremony (the login's)
        by_ceremony = {
            p.subject: json.loads(p.body)
            for p in uow.mobile_keys.pending_pushes(row.id, now=datetime.now(UTC))
        }
        found = []
        for login_id, number in logins:
            login = uow.logins.get(login_id)
            assert login is not None and login.ceremony is not None
            found.append((login_id, by_ceremony[login.ceremony.id], number))
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def open_fds(pids: list[int]) -> int:
    return sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)


async def long_poll(
    client: httpx.AsyncClient,
    login_id: str,
    done: dict[str, float],
    errors: list[str],
    repolls: list[float],
) -> None:
    first = True
    while True:
        if not first:
            repolls.append(time.perf_counter())
        first = False
        try:
            got = await client.get(f"/api/v1/logins/{login_id}", params={"wait": 60})
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            await asyncio.sleep(0.5)
            continue
        if got.status_code != 200:
            errors.append(f"http {got.status_code}")
            await asyncio.sleep(0.5)
            continue
        if got.json()["status"] != "challenge":
            done[login_id] = time.perf_counter()
            return


async def measure(
    base: str,
    app: App,
    logins: list[tuple[str, str]],
    pushes: dict[str, dict[str, Any]],
    approvals: int,
    settle: float,
    spread: float,
    pids: list[int],
) -> dict[str, Any]:
    # one client per 500 long-polls: httpcore scans its pool on every request, so one
    # client with 10,000 connections would make the load generator the bottleneck
    limits = httpx.Limits(max_connections=POLLS_PER_CLIENT + 10, max_keepalive_connections=None)
    timeout = httpx.Timeout(120.0)
    done: dict[str, float] = {}
    errors: list[str] = []
    repolls: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout)
            )
            for _ in range(0, len(logins), POLLS_PER_CLIENT)
        ]
        answers = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=timeout))
        idle_rss = rss_mb(pids)
        tasks = []
        for i in range(0, len(logins), 250):  # connect in waves (the listen backlog)
            tasks += [
                asyncio.create_task(
                    long_poll(clients[(i + n) // POLLS_PER_CLIENT], lid, done, errors, repolls)
                )
                for n, (lid, _) in enumerate(logins[i : i + 250])
            ]
            await asyncio.sleep(0.25)
        connected_at = time.perf_counter()
        while open_fds(pids) < len(logins) and time.perf_counter() - connected_at < 900:
            await asyncio.sleep(1)  # until the server holds every long-poll connection
        ramp = round(time.perf_counter() - connected_at, 1)
        await asyncio.sleep(settle)  # every long-poll has arrived and waits
        waiting_rss = rss_mb(pids)
        connections = open_fds(pids)
        latencies, from_send, sent_at = [], [], []
        began = time.perf_counter()
        for k, (login_id, number) in enumerate(logins[:approvals]):
            pause = began + k * spread / max(1, approvals) - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            pushed = pushes[login_id]
            body = app.answer(pushed, number)
            path = f"/api/v1/key/pushes/{pushed['push_id']}/answer"
            sent = time.perf_counter()
            try:
                answered = await answers.post(
                    path, content=body, headers=app.signed("POST", path, body)
                )
            except httpx.HTTPError as exc:
                errors.append(f"answer {type(exc).__name__}")
                continue
            approved = time.perf_counter()
            assert answered.status_code == 200, answered.text
            deadline = time.perf_counter() + 60
            while login_id not in done and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            if login_id not in done:
                errors.append("not completed")
                continue
            latencies.append((done[login_id] - approved) * 1000)
            from_send.append((done[login_id] - sent) * 1000)
            sent_at.append(sent)
            await asyncio.sleep(0.02)
        end_rss = rss_mb(pids)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    waves = find_waves(repolls, len(logins))

    def near(at: float, wave: tuple[float, float, int]) -> bool:
        return wave[0] - WAVE_MARGIN <= at <= wave[1] + WAVE_MARGIN

    in_wave = [any(near(at, w) for w in waves) for at in sent_at]
    return {
        "rss_mb_idle": idle_rss,
        "rss_mb_waiting": waiting_rss,
        "rss_mb_end": end_rss,
        "server_open_fds_waiting": connections,
        "seconds_until_all_connected": ramp,
        "client_errors": len(errors),
        "client_error_kinds": sorted(set(errors)),
        "approval_to_complete_ms": pct(latencies),
        "answer_sent_to_complete_ms": pct(from_send),
        "repolls": len(repolls),
        "repoll_waves": [
            {
                "from_s": round(w[0] - began, 1),
                "to_s": round(w[1] - began, 1),
                "repolls": w[2],
                "approvals_near": sum(near(at, w) for at in sent_at),
            }
            for w in waves
        ],
        "near_wave_approval_to_complete_ms": pct(
            [v for v, i in zip(latencies, in_wave, strict=True) if i]
        ),
        "away_from_waves_approval_to_complete_ms": pct(
            [v for v, i in zip(latencies, in_wave, strict=True) if not i]
        ),
    }


def find_waves(repolls: list[float], logins: int) -> list[tuple[float, float, int]]:
    """Runs of seconds in which at least a twentieth of the long-polls re-polled:
    (first re-poll, last re-poll, re-polls)."""
    buckets: dict[int, list[float]] = {}
    for at in repolls:
        buckets.setdefault(int(at), []).append(at)
    waves: list[tuple[float, float, int]] = []
    for second in sorted(buckets):
        got = buckets[second]
        if len(got) < logins / 20:
            continue
        if waves and second - waves[-1][1] <= 2:
            waves[-1] = (waves[-1][0], max(got), waves[-1][2] + len(got))
        else:
            waves.append((min(got), max(got), len(got)))
    return waves


def pct(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": at(95),
        "p99": at(99),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--logins", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=300)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument(
        "--spread", type=float, default=75.0, help="seconds the approvals are spread over"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    with installation(args.db, users=1, pg_url=args.pg_url) as inst:
        settings = load_settings(
            database_url=inst.url, master_key=inst.env["SECURELOGIN_MASTER_KEY"]
        )
        services = bootstrap(settings)
        app = App()
        user_id = activate(services, inst.users[0].username, app)
        t0 = time.perf_counter()
        logins = open_logins(services, user_id, args.logins)
        created = time.perf_counter() - t0
        pushes = {
            lid: pushed for lid, pushed, _ in pushes_of(services, app, logins[: args.approvals])
        }
        services.database.close()
        with running_server(url=inst.url, workers=1, env=inst.env, workdir=inst.workdir) as server:
            figures = asyncio.run(
                measure(
                    server.base_url,
                    app,
                    logins,
                    pushes,
                    args.approvals,
                    args.settle,
                    args.spread,
                    server.pids(),
                )
            )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        json.dumps(
            {
                "bench": "push",
                "db": args.db,
                "pending_logins": args.logins,
                "create_seconds": round(created, 1),
                **figures,
                "machine": f"{os.cpu_count()} cores, {cpu}",
                "python": platform.python_version(),
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            }
        )
    )


if __name__ == "__main__":
    main()
