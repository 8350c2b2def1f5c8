"""How ``securelogin serve`` runs uvicorn: HTTP/1.1 with ``TCP_NODELAY`` on every connection.

With ``--workers N`` > 1 uvicorn binds the listening socket itself with protocol 0, and
asyncio sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``; h11 writes
the head and the body of a response in two writes, so the body waited for the client's
delayed ACK (~40 ms per request, docs/performance.md). :class:`H11NoDelay` sets the option
on each accepted connection, whatever socket uvicorn listens on.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

#: ``uvicorn.run(http=...)`` takes an import string, so worker processes load it themselves
PROTOCOL = "securelogin.entrypoints.server:H11NoDelay"


def set_nodelay(transport: asyncio.BaseTransport) -> bool:
    """Turn Nagle's algorithm off for a TCP transport; False for anything else (Unix socket)."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return True


class H11NoDelay(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
