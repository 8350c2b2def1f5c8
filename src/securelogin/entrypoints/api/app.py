"""The ASGI application: JSON API under /api/v1, /healthz, the Client Portal and its assets,
the mobile key web app under /key/."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from securelogin.entrypoints.api import (
    funds,
    key_webpush,
    keys,
    logins,
    passkeys,
    problems,
    selfservice,
)
from securelogin.entrypoints.api.limits import BodyLimits
from securelogin.entrypoints.api.transport import Network, TransportSecurity
from securelogin.entrypoints.api.waits import hubs
from securelogin.entrypoints.background import background_lifespan
from securelogin.entrypoints.console import logistics
from securelogin.entrypoints.console import routes as console
from securelogin.entrypoints.keyapp import routes as keyapp
from securelogin.entrypoints.oidc import routes as oidc
from securelogin.entrypoints.portal import routes as portal
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.entrypoints.web.pages import SECURITY_HEADERS
from securelogin.entrypoints.web.routing import add_shared
from securelogin.service.context import Services
from securelogin.service.health import check_health
from securelogin.service.wakeups import Wakeups


class SecurityHeaders:
    """Every answer — pages, API, assets, errors — carries the portal's headers.

    A plain ASGI middleware: it edits the ``http.response.start`` message in passing,
    with no task or streaming wrapper per request (``BaseHTTPMiddleware`` costs ~19 % of
    the CPU of a second-factor answer, docs/performance.md). Headers a handler set itself
    win; assets under ``/static/`` may be cached.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.defaults = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in SECURITY_HEADERS.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in self.defaults:
                    if name not in present and not (static and name == b"cache-control"):
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Health(BaseModel):
    status: str


operations = APIRouter()


@operations.get(
    "/healthz",
    response_model=Health,
    tags=["operations"],
    responses=problems.problem_responses(503),
)
def healthz(services: ServicesDep) -> Health:
    """``{"status":"ok"}`` once the database answers (SPEC §10.2)."""
    return Health(status=check_health(services))


def create_app(
    services: Services,
    *,
    background_every: float = 0,
    trusted_proxies: Sequence[Network] = (),
    production: bool = False,
    wakeups: Wakeups | None = None,
    threads: int | None = None,
) -> FastAPI:
    """The whole HTTP service; ``background_every`` > 0 also runs the delivery loop.

    ``trusted_proxies`` may say the client's address and HTTPS (X-Forwarded-For/-Proto);
    ``production`` marks every cookie Secure (:mod:`~securelogin.entrypoints.api.transport`).
    ``wakeups`` connects this process's long-polls with the installation's other
    processes (entrypoints/api/waits.py); ``threads`` sets the thread limit for blocking
    work (the database pool is sized to it, bootstrap.py).
    """
    background = background_lifespan(services, every=background_every) if background_every else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(hubs(services).serve_wakeups(wakeups))
            if background is not None:
                await stack.enter_async_context(background(app))
            yield

    app = FastAPI(
        lifespan=lifespan,
        title="securelogin",
        version="0.1.0",
        summary="Secure Login System for brokerages",
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)

    # the last added runs first: the transport is settled before anything else looks at
    # the request, and the limits' refusals carry the security headers too
    app.add_middleware(BodyLimits, own_limits=[logistics.IMPORT_PATH])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TransportSecurity, trusted_proxies=trusted_proxies, production=production)

    app.state.services = services  # what the handlers get as ``ServicesDep``
    app.state.hubs = hubs(services)  # the long-polls' hubs, ``HubsDep``
    # module-level routers: the process's shared routes (entrypoints/web/routing.py)
    add_shared(
        app,
        operations,
        logins.router,
        keys.router,
        key_webpush.router,
        funds.router,
        passkeys.router,
        selfservice.router,
    )
    console.install(app, services)
    portal.install(app, services)
    add_shared(app, keyapp.router)
    oidc.install(app, services)
    app.mount("/static", StaticFiles(directory=portal.STATIC_DIR), name="static")
    return app
