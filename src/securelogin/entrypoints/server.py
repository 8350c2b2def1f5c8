"""How ``securelogin serve`` runs uvicorn: HTTP/1.1 with ``TCP_NODELAY`` on every connection.

With ``--workers N`` > 1 uvicorn binds the listening socket itself with protocol 0, and
asyncio sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``; h11 writes
the head and the body of a response in two writes, so the body waited for the client's
delayed ACK (~40 ms per request, docs/performance.md). The protocol classes here set the
option on each accepted connection, whatever socket uvicorn listens on.

Two HTTP parsers: ``httptools`` (C, the default: less CPU per request, measured in
docs/performance.md) and ``h11`` (pure Python); ``SECURELOGIN_HTTP_PARSER`` chooses.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: ``uvicorn.run(http=...)`` takes an import string, so worker processes load it themselves
PROTOCOLS = {
    "h11": "securelogin.entrypoints.server:H11NoDelay",
    "httptools": "securelogin.entrypoints.server:HttpToolsNoDelay",
}


def protocol_for(parser: str) -> str:
    """The import string of the protocol class for ``h11`` or ``httptools``."""
    return PROTOCOLS[parser]


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


class HttpToolsNoDelay(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
