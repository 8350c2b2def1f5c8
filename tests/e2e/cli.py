"""Run the real ``securelogin`` command: in a subprocess (:func:`run_cli`), as a person
does, or in this test process (:func:`invoke_cli`) for the many calls that only set up
data or walk through an error table.

A subprocess costs ≈ 1 s of CPU (the interpreter and every import), which is most of the
suite's CPU when a test calls the command a dozen times (docs/development.md,
"Measured").  So each command keeps at least one test that runs it in a real process —
argv parsing, exit codes and one-line errors as the shell sees them — and the other
calls go through :func:`invoke_cli`: the same Typer application and the same
``securelogin`` wrapper (exit 70 on an unexpected error), with the environment given and
nothing else, stdin from a string, stdout and stderr captured apart.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from securelogin.entrypoints.cli.main import run

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


def invoke_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``securelogin ARGS`` run in this process, answered like :func:`run_cli`."""
    serves = args[:1] == ("serve",) or (args[:1] == ("demo",) and "--no-serve" not in args)
    assert args and not serves, "a command that serves until stopped: use serving()"
    assert args[0] != "key", "the soft key is a program of its own: run_cli('key', …)"
    runner = CliRunner()
    with (
        _environment(env),
        _engines_closed(),
        contextlib.chdir(cwd or Path.cwd()),
        runner.isolation(input=stdin) as (out, err, _),
    ):
        try:
            run([*args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(["securelogin", *args], code, stdout, stderr)


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is exactly ``env`` while the command runs (as for a subprocess)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _engines_closed() -> Iterator[None]:
    """A command's process would end with it: dispose of the engines it opened (on this
    thread), so that no connection or SQLite file handle outlives the call."""
    opened: weakref.WeakSet[Engine] = weakref.WeakSet()
    thread = threading.get_ident()

    def remember(connection: object) -> None:
        if threading.get_ident() == thread:
            opened.add(connection.engine)  # type: ignore[attr-defined]

    event.listen(Engine, "engine_connect", remember)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in list(opened):
            engine.dispose()


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
