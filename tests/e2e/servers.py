"""uvicorn in a background thread of the test process, on a free loopback port, with an
event for "listening" (no polling); plain HTTP, or TLS when given a cert and key file."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@contextlib.contextmanager
def serve(app: ASGIApp, **tls: str) -> Iterator[int]:
    """``app`` on a free port of 127.0.0.1; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", ws="none", lifespan="off", proxy_headers=False, **tls
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert server.ready.wait(10), "uvicorn did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        server.force_exit = True  # no waiting for long-polls still open: a test is over
        thread.join(timeout=10)
        sock.close()
