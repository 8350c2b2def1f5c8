"""What a benchmark stands on: a fresh database, users with OCRA cards, a real server.

Everything goes through the product's own commands (``securelogin admin import`` and
``securelogin serve``), so the figures are those of the shipped code, not of a shortcut.
One Argon2id hash is computed here and given to every user as ``password_hash``
(docs/import-format.md), so 2,000 users import in seconds instead of 2,000 x 20 ms.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import argon2
import httpx
import psycopg
from psycopg import sql

from securelogin.domain import otp

PASSWORD = "Bench-Password-2026"
CARD_SUITE = "OCRA-1:HOTP-SHA1-8:QN08"  # platinum_card (registry.LEGACY_CARD_SUITE)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent


def argon2_hasher() -> argon2.PasswordHasher:
    """The product's parameters (R-LOGIN-2): Argon2id, 19 MiB, t=2, p=1."""
    return argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@dataclass(frozen=True, kw_only=True)
class BenchUser:
    username: str
    seed: bytes

    def answer(self, challenge: str) -> str:
        """What the user's platinum card shows for a challenge (RFC 6287)."""
        return otp.ocra(CARD_SUITE, self.seed, question=challenge)


def make_users(count: int) -> list[BenchUser]:
    return [BenchUser(username=f"bench{n:06d}", seed=secrets.token_bytes(20)) for n in range(count)]


def import_document(users: list[BenchUser], password_hash: str) -> dict[str, object]:
    """One entity, one account with withdraw rights (a "sensitive" session, R-LOGIN-11)
    and one platinum card per user."""
    entities, accounts, rows = [], [], []
    for n, user in enumerate(users, start=1):
        entities.append({"id": f"BE-{n}", "name": f"Bench User {n}"})
        accounts.append({"id": f"B{1000000 + n}", "entity": f"BE-{n}", "cash": "1000.00"})
        rows.append(
            {
                "username": user.username,
                "entity": f"BE-{n}",
                "password_hash": password_hash,
                "grants": [
                    {"account": f"B{1000000 + n}", "rights": ["trade", "withdraw"]},
                ],
                "devices": [
                    {
                        "kind": "platinum_card",
                        "serial": f"BPLAT-{n:07d}",
                        "secret_hex": user.seed.hex(),
                    }
                ],
            }
        )
    return {"entities": entities, "accounts": accounts, "users": rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def fresh_database(kind: str, *, workdir: Path, pg_url: str) -> Iterator[str]:
    """A SQLite file in ``workdir``, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = "bench_" + secrets.token_hex(6)
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_env(master_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECURELOGIN_")}
    env["SECURELOGIN_MASTER_KEY"] = master_key
    return env


def import_users(users: list[BenchUser], *, url: str, env: dict[str, str], workdir: Path) -> float:
    """``securelogin admin import``; returns the seconds it took."""
    password_hash = argon2_hasher().hash(PASSWORD)
    path = workdir / "users.json"
    path.write_text(json.dumps(import_document(users, password_hash)))
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "securelogin"), "admin", "import", str(path), "--database-url", url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def process_cpu(pid: int | str) -> float:
    """user+system CPU seconds of one process (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


class PgBackendsCpu:
    """CPU seconds of the PostgreSQL backends connected to ``database`` (process title
    ``postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE``; a local server only).

    Monotonic: a backend that exits (a pool's overflow connection being closed) keeps
    the CPU it was last seen with, so a run never shows a negative figure; what it used
    after the last look is lost, so churning connections are undercounted."""

    def __init__(self, database: str) -> None:
        self.database = database.encode()
        self.last: dict[str, float] = {}

    def __call__(self) -> float:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            title = raw.replace(b"\0", b" ").split()
            if title[:1] == [b"postgres:"] and self.database in title[1:4]:
                self.last[entry] = max(self.last.get(entry, 0.0), process_cpu(entry))
        return sum(self.last.values())


@dataclass
class Server:
    """A ``securelogin serve`` process (its own process group) and its base URL."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    #: the PostgreSQL database the server uses (its backends' CPU counts as "db")
    pg_database: str | None = None

    def probes(self) -> dict[str, Callable[[], float]]:
        found: dict[str, Callable[[], float]] = {"server": self.cpu_seconds}
        if self.pg_database is not None:
            found["db"] = PgBackendsCpu(self.pg_database)
        return found

    def pids(self) -> list[int]:
        """The server process and its worker processes (uvicorn spawns them as children)."""
        found = [self.process.pid]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) in found and int(entry) not in found:
                found.append(int(entry))
        return found

    def cpu_seconds(self) -> float:
        """user+system CPU of the server and its workers so far."""
        return sum(process_cpu(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextlib.contextmanager
def running_server(
    *, url: str, workers: int, env: dict[str, str], workdir: Path
) -> Iterator[Server]:
    """``securelogin serve`` on a free port, until the block ends."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "securelogin"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database-url",
                url,
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    database = url.rpartition("/")[2] if url.startswith("postgresql") else None
    server = Server(
        process=process, base_url=f"http://127.0.0.1:{port}", log=log, pg_database=database
    )
    try:
        _wait_healthy(server, workers)
        yield server
    finally:
        server.stop()


def _wait_healthy(server: Server, workers: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            healthy = httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200
            # every worker must have started, or the first seconds measure start-up
            started = server.log.read_text().count("Application startup complete")
            if healthy and started >= workers:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not become healthy: {server.log.read_text()[-2000:]}")


@dataclass
class Installation:
    users: list[BenchUser]
    url: str
    env: dict[str, str]
    workdir: Path
    import_seconds: float


@contextlib.contextmanager
def installation(kind: str, *, users: int, pg_url: str) -> Iterator[Installation]:
    """A temp dir, a fresh database with ``users`` imported users, dropped at the end."""
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    env = server_env(master_key)
    with tempfile.TemporaryDirectory(prefix="securelogin-bench-") as tmp:
        workdir = Path(tmp)
        with fresh_database(kind, workdir=workdir, pg_url=pg_url) as url:
            people = make_users(users)
            seconds = import_users(people, url=url, env=env, workdir=workdir)
            yield Installation(
                users=people, url=url, env=env, workdir=workdir, import_seconds=seconds
            )
