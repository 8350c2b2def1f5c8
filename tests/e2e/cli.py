"""Run the real ``securelogin`` command in a subprocess."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

SECURELOGIN = str(Path(sys.executable).with_name("securelogin"))


def run_cli(
    *args: str,
    env: dict[str, str],
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SECURELOGIN, *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    database_url: str, env: dict[str, str], workdir: Path, *extra: str, timeout: float = 90
) -> Iterator[str]:
    """A real ``securelogin serve`` process on a free port; yields its base URL."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [SECURELOGIN, "serve", "--port", str(port), "--database-url", database_url, *extra],
            env=env,
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base, proc, log, timeout)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _wait_until_healthy(
    base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become healthy in {timeout} s:\n{log.read_text()}")
