"""Errors → RFC 9457 problem details: the one mapping table of the HTTP entry point."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from securelogin import errors

PROBLEM_JSON = "application/problem+json"

#: exception class → HTTP status; the ``code`` comes from the exception (stable, documented)
STATUS: dict[type[errors.SecureLoginError], int] = {
    errors.InvalidInput: 422,
    errors.ImportRejected: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.InvalidCredentials: 401,
    errors.LoginFailed: 401,
    errors.AuthenticationFailed: 401,
    errors.Locked: 423,
    errors.StorageUnavailable: 503,
    errors.ConfigurationError: 500,
    errors.IntegrityViolation: 500,
    errors.UnknownLogin: 404,
    errors.LoginExpired: 410,
    errors.LoginClosed: 409,
    errors.UnknownDevice: 422,
    errors.TooManyCodes: 429,
    errors.Unauthenticated: 401,
    errors.AccessDenied: 403,
    errors.ShareRefused: 422,  # R-SHARE-3
    errors.WithdrawalRefused: 422,  # R-WD-3
    errors.WithdrawalExpired: 410,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ProblemOut(BaseModel):
    """RFC 9457 problem details with the stable ``code`` of SPEC §10.2."""

    type: str
    title: str
    status: int
    code: str
    message: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the problems a route can answer (400 malformed JSON and 413
    too large a body always: entrypoints.api.limits)."""
    wanted = sorted({400, 413, *statuses})
    return {
        s: {
            "model": ProblemOut,
            "content": {PROBLEM_JSON: {}},
            "description": HTTP_CODES.get(s, "problem"),
        }
        for s in wanted
    }


def status_of(exc: errors.SecureLoginError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    body: dict[str, object] = {
        "type": f"urn:securelogin:problem:{code}",
        "title": message,
        "status": status,
        "code": code,
        "message": message,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.SecureLoginError)  # noqa: S101 - registered for this class
    extra: dict[str, object] = {}
    if isinstance(exc, errors.InvalidInput) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, errors.WithdrawalRefused):
        extra["remaining"] = exc.remaining  # R-WD-3
    if isinstance(exc, errors.Locked) and exc.retry_at:
        extra["retry_at"] = exc.retry_at.isoformat()
    return problem(status_of(exc), exc.code, exc.message, **extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return problem(400, "malformed_json", "The request body is not valid JSON")
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return problem(
        422, "invalid_request", f"{where}: {first.get('msg', 'invalid value')}", field=where
    )


#: the methods a 405's ``Allow`` may name (FastAPI routes list HEAD only when declared)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path.  Starlette's own 405
    names only the first route matching the path, which is wrong where two routes share
    it (``GET`` and ``POST /api/v1/returns``).  A path the OpenAPI document names as it
    is answers with that resource's methods: ``/api/v1/passkeys/registrations`` is the
    registrations resource, not a passkey whose id happens to be "registrations"."""
    documented = request.app.openapi()["paths"].get(request.url.path)
    if documented:
        return [method for method in METHODS if method.lower() in documented]
    # a mount (the static files) matches every method and answers its own 405
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this class
    code = HTTP_CODES.get(exc.status_code, "http_error")
    answer = problem(exc.status_code, code, str(exc.detail))
    answer.headers.update(exc.headers or {})
    if exc.status_code == 405 and (allowed := allowed_methods(request)):
        answer.headers["Allow"] = ", ".join(allowed)  # RFC 9110 §15.5.6: all of them
    return answer


async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    return problem(500, "internal_error", "Internal error; the incident was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.SecureLoginError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
