"""`serve --workers N`: accepted connections get TCP_NODELAY (docs/performance.md)."""

from __future__ import annotations

import asyncio
import socket

from securelogin.entrypoints.server import set_nodelay


async def _accepted_nodelay(*, fix: bool) -> int:
    """TCP_NODELAY of a connection accepted on a socket bound the way uvicorn's workers
    bind it (``socket.socket(family)``, protocol 0)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Recorder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if fix:
                set_nodelay(transport)
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Recorder, sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(accepted, 5)
        writer.close()
        await writer.wait_closed()
    return value


def test_a_protocol_0_listener_leaves_nagle_on_without_the_fix() -> None:
    # The defect this module exists for: asyncio does not set TCP_NODELAY here.
    assert asyncio.run(_accepted_nodelay(fix=False)) == 0


def test_set_nodelay_turns_nagle_off_on_accepted_connections() -> None:
    assert asyncio.run(_accepted_nodelay(fix=True)) != 0
