"""Logistics pages of the operator console (R-OPS-3, R-LOST-4, R-RETURN-2): the stock per
hardware kind, the import of a manufacturer's PSKC seed file, open replacement requests
(assign a device from the inventory by serial, mark it shipped) and devices on their way
back (record receipt: returned, deposit released).

The import (``POST /console/logistics/import``, multipart) reads the body itself instead
of letting FastAPI parse it: the operator's role is checked before one byte is read, and
the body is counted while it arrives, so an upload over ``BODY_MAX`` is cut off and
answered 413 with the stable code ``invalid_input.file_size`` instead of being spooled
to disk whole.  A refusal shows its stable code (``data-code``) and the reader's words;
nothing is stocked (``import_seed_file`` is all or nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Message as AsgiMessage

from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.web import (
    ConsolePages,
    ConsolePagesDep,
    MenuItem,
    error_message,
)
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.i18n import EN
from securelogin.entrypoints.web.pages import CSRF_FIELD, CsrfField, Message
from securelogin.errors import InvalidInput, SecureLoginError
from securelogin.service.context import Services
from securelogin.service.lifecycle import inventory, replacement, returns

PATH = "/console/logistics"
MENU = (
    MenuItem(
        role=Role.LOGISTICS, path=PATH, key="console.logistics", text_key="console.logistics.text"
    ),
)


IMPORT_PATH = PATH + "/import"
#: the whole multipart body: the seed file, a key file and a few short fields
BODY_MAX = inventory.MAX_SEED_FILE_BYTES + 64 * 1024
#: a short form field (token, kind, password, hex key)
FIELD_MAX = 4096
#: seed problems (``domain.inventory.check_seed``) share one sentence: the file's seeds do
#: not fit the chosen kind
SEED_FIELDS = frozenset({"secret", "algorithm", "digits", "time_interval", "counter"})
#: HTTP status of an import refusal by stable code (the rest: 422)
IMPORT_STATUS = {"invalid_input.file_size": 413, "conflict": 409, "access_denied": 403}


@dataclass(frozen=True, kw_only=True)
class Upload:
    """The import form as it arrived (secrets are never echoed back into the page)."""

    token: str
    kind: str
    data: bytes
    password: str | None
    preshared_key: str
    key_file: bytes


@dataclass(frozen=True, kw_only=True)
class ImportRefusal:
    """A refused import: the stable code (``invalid_input.password``, ``conflict`` …)
    and the service's words naming the serial or the fault (no secret in them)."""

    code: str
    detail: str


class _TooLarge(Exception):
    """The body grew past ``BODY_MAX`` while it was read."""


def refusal_code(exc: SecureLoginError) -> str:
    """``<code>.<field>`` for invalid input that names its field, else the code."""
    return f"{exc.code}.{exc.field}" if isinstance(exc, InvalidInput) and exc.field else exc.code


def import_message(code: str, exc: SecureLoginError) -> Message:
    """``console.logistics.import.error.<code>``, seed problems as one, else the console's."""
    code, _, field = code.partition(".")
    key = f"console.logistics.import.error.{code}.{'seed' if field in SEED_FIELDS else field}"
    for candidate in (key, f"console.logistics.import.error.{code}"):
        if candidate in EN:
            return Message(tone="error", key=candidate)
    return error_message(exc)


async def read_upload(request: Request) -> Upload:
    """The multipart form, counted as it arrives; ``InvalidInput`` (``file_size``) past
    ``BODY_MAX`` — a declared length over it is refused before anything is read."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > BODY_MAX:
        raise inventory.oversized_seed_file()
    seen = 0
    receive = request.receive

    async def counted() -> AsgiMessage:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > BODY_MAX:
            raise _TooLarge
        return message

    try:
        async with Request(request.scope, counted).form(
            max_files=2, max_fields=8, max_part_size=FIELD_MAX
        ) as form:
            return Upload(
                token=_text(form.get(CSRF_FIELD)),
                kind=_text(form.get("kind")),
                data=await _bytes(form.get("file"), inventory.MAX_SEED_FILE_BYTES + 1),
                password=_text(form.get("password")) or None,
                preshared_key=_text(form.get("preshared_key")).strip(),
                key_file=await _bytes(form.get("preshared_key_file"), inventory.MAX_KEY_FILE_BYTES),
            )
    except _TooLarge:
        raise inventory.oversized_seed_file() from None
    except HTTPException:  # a malformed multipart body (Starlette answers it with 400)
        raise InvalidInput("the upload is not a readable form", field="file") from None


def _text(value: object) -> str:
    return value[:FIELD_MAX] if isinstance(value, str) else ""


async def _bytes(value: object, limit: int) -> bytes:
    return await value.read(limit) if isinstance(value, UploadFile) else b""


def preshared_key(upload: Upload) -> bytes | None:
    """The CLI's rule (``--preshared-key-file``: raw 16/24/32 bytes or hex): an uploaded
    key file, or the key typed in hex; not both."""
    if upload.key_file and upload.preshared_key:
        raise InvalidInput("give the pre-shared key once: a file or hex", field="preshared_key")
    raw = upload.key_file or upload.preshared_key.encode()
    return inventory.decode_preshared_key(raw) if raw else None


router = APIRouter()


def page(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    *,
    status_code: int = 200,
    messages: tuple[Message, ...] = (),
    imported: inventory.StockReport | None = None,
    refusal: ImportRefusal | None = None,
    kind: str = "",
) -> HTMLResponse:
    return pages.render(
        request,
        "console/logistics.html",
        operator=operator,
        status_code=status_code,
        messages=messages,
        stock=inventory.stock_overview(services, operator),
        chosen_kind=kind,
        imported=imported,
        refusal=refusal,
        max_mb=inventory.MAX_SEED_FILE_BYTES // (1024 * 1024),
        requests=replacement.open_requests(services, operator),
        pending=returns.pending_returns(services, operator),
    )


@router.get(PATH, response_class=HTMLResponse)
def overview(request: Request, services: ServicesDep, pages: ConsolePagesDep) -> Response:
    operator = pages.operator(request, Role.LOGISTICS)
    if isinstance(operator, Response):
        return operator
    return page(services, pages, request, operator)


def act(
    services: Services,
    pages: ConsolePages,
    request: Request,
    token: str,
    action: Callable[[Operator], object],
) -> Response:
    """CSRF, one service call, then the list again: refused with words (422) or a 303."""
    return pages.submit(
        request,
        Role.LOGISTICS,
        token,
        action,
        refused=lambda operator, exc: page(
            services, pages, request, operator, status_code=422, messages=(error_message(exc),)
        ),
        done=lambda _operator, _result: pages.redirect(request, PATH),
    )


@router.post(PATH + "/assign", response_class=HTMLResponse)
def assign(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    request_id: Annotated[str, Form()] = "",
    serial: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        lambda operator: replacement.assign_device(
            services, operator, request_id=request_id[:40], serial=serial[:64]
        ),
    )


@router.post(PATH + "/ship", response_class=HTMLResponse)
def ship(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    request_id: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    return act(
        services,
        pages,
        request,
        token,
        lambda operator: replacement.ship(services, operator, request_id=request_id[:40]),
    )


@router.post(PATH + "/receive", response_class=HTMLResponse)
def receive(
    request: Request,
    services: ServicesDep,
    pages: ConsolePagesDep,
    return_id: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    number = int(return_id) if return_id.isdigit() else -1
    return act(
        services,
        pages,
        request,
        token,
        lambda operator: returns.record_receipt(services, operator, return_id=number),
    )


def refuse_import(
    services: Services,
    pages: ConsolePages,
    request: Request,
    operator: Operator,
    exc: SecureLoginError,
    kind: str = "",
) -> Response:
    code = refusal_code(exc)
    return page(
        services,
        pages,
        request,
        operator,
        status_code=IMPORT_STATUS.get(code, 422),
        messages=(import_message(code, exc),),
        refusal=ImportRefusal(code=code, detail=str(exc)),
        kind=kind,
    )


def stock_upload(
    services: Services, pages: ConsolePages, request: Request, upload: Upload
) -> Response:
    """CSRF, then one service call; the answer is the page with the count (a reload
    would import again and be refused whole: the serials exist)."""
    return pages.submit(
        request,
        Role.LOGISTICS,
        upload.token,
        lambda operator: inventory.stock_seed_file(
            services,
            operator,
            upload.data,
            kind=upload.kind,
            password=upload.password,
            preshared_key=preshared_key(upload),
        ),
        refused=lambda operator, exc: refuse_import(
            services, pages, request, operator, exc, upload.kind
        ),
        done=lambda operator, report: page(services, pages, request, operator, imported=report),
    )


@router.post(IMPORT_PATH, response_class=HTMLResponse)
async def import_seed_file(
    request: Request, services: ServicesDep, pages: ConsolePagesDep
) -> Response:
    # the role before the body: an operator without it never has a file parsed
    operator = await run_in_threadpool(pages.operator, request, Role.LOGISTICS)
    if isinstance(operator, Response):
        return operator
    try:
        upload = await read_upload(request)
    except InvalidInput as exc:
        return await run_in_threadpool(refuse_import, services, pages, request, operator, exc)
    return await run_in_threadpool(stock_upload, services, pages, request, upload)
