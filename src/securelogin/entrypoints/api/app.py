"""The ASGI application: JSON API under /api/v1, /healthz, the Client Portal and its assets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from securelogin.entrypoints.api import funds, keys, logins, problems
from securelogin.entrypoints.background import background_lifespan
from securelogin.entrypoints.console import routes as console
from securelogin.entrypoints.portal import routes as portal
from securelogin.service.context import Services
from securelogin.service.health import check_health

NextHandler = Callable[[Request], Awaitable[Response]]


class Health(BaseModel):
    status: str


def create_app(services: Services, *, background_every: float = 0) -> FastAPI:
    """The whole HTTP service; ``background_every`` > 0 also runs the delivery loop."""
    lifespan = background_lifespan(services, every=background_every) if background_every else None
    app = FastAPI(
        lifespan=lifespan,
        title="securelogin",
        version="0.1.0",
        summary="Secure Login System for brokerages",
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: NextHandler) -> Response:
        """Every answer — pages, API, assets, errors — carries the portal's headers."""
        response = await call_next(request)
        for name, value in portal.SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response

    @app.get(
        "/healthz",
        response_model=Health,
        tags=["operations"],
        responses=problems.problem_responses(503),
    )
    def healthz() -> Health:
        """``{"status":"ok"}`` once the database answers (SPEC §10.2)."""
        return Health(status=check_health(services))

    app.include_router(logins.build_router(services))
    app.include_router(keys.build_router(services))
    app.include_router(funds.build_router(services))
    app.include_router(console.build_router(services))
    app.include_router(portal.build_router(services))
    app.mount("/static", StaticFiles(directory=portal.STATIC_DIR), name="static")
    return app
