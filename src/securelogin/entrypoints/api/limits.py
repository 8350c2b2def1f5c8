"""Request size limits, before any handler reads a byte (SPEC §10.2; issue 12, finding 1).

A 300 MB JSON body used to be read and parsed whole before its 422: seconds of CPU and
half a gigabyte of memory kept by the worker. :class:`BodyLimits` is a plain ASGI
middleware that

- refuses a declared ``Content-Length`` over the limit at once (nothing is read);
- counts a body without a length (chunked) while it arrives and stops reading at the
  first byte past the limit;
- for the JSON API, reads the (small) body itself and refuses JSON nested deeper than
  :data:`JSON_DEPTH_MAX` before the parser recurses into it.

JSON calls (everything under ``/api/``, and any JSON body) may send 1 MiB; the portal's
and the console's forms 64 KiB. Uploads that count their own body (the PSKC seed file
import, 5 MB) are passed through untouched, so that their own refusal page is shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import accumulate

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from securelogin.entrypoints.api.problems import problem

JSON_MAX = 1024 * 1024
FORM_MAX = 64 * 1024
JSON_DEPTH_MAX = 32
API_PREFIX = "/api/"

#: JSON strings (their brackets do not nest anything) and every byte but a bracket
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class PayloadTooLarge(HTTPException):
    """The body grew past its limit while a handler read it (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes")
        self.limit = limit


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest (brackets inside strings ignored).

    Runs in C loops (``re``, ``bytes.translate``, ``accumulate``): a few milliseconds for
    1 MiB, where ``json.loads`` would recurse once per level."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def too_large(limit: int) -> ASGIApp:
    return problem(413, "payload_too_large", f"The request body is larger than {limit} bytes")


def too_deep() -> ASGIApp:
    return problem(
        422,
        "json_too_deep",
        f"body: JSON nested deeper than {JSON_DEPTH_MAX} levels",
        field="body",
    )


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, or what arrived up to the first chunk past ``limit`` (then False)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that answers the body read ahead first, then waits as before
    (a long-poll still hears ``http.disconnect``)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


def counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`PayloadTooLarge` once more than ``limit`` arrived."""
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLarge(limit)
        return message

    return counting


class BodyLimits:
    """The size (and, for JSON, depth) limits of every request body; see the module."""

    def __init__(self, app: ASGIApp, *, own_limits: Collection[str] = ()) -> None:
        self.app = app
        self.own_limits = frozenset(own_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path in self.own_limits:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        is_json = path.startswith(API_PREFIX) or media.endswith(("/json", "+json"))
        limit = JSON_MAX if is_json else FORM_MAX
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        if is_json:
            body, complete = await read_body(receive, limit)
            if not complete:
                await too_large(limit)(scope, receive, send)
            elif body.lstrip()[:1] in (b"[", b"{") and json_depth(body) > JSON_DEPTH_MAX:
                await too_deep()(scope, receive, send)
            else:
                await self.app(scope, replay(body, receive), send)
            return
        await self._counted(scope, counted(receive, limit), send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except PayloadTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, send)
