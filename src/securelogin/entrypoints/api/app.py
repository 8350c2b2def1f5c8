"""The ASGI application: JSON API under /api/v1, /healthz, the Client Portal and its assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from securelogin.entrypoints.api import problems
from securelogin.entrypoints.portal import routes as portal
from securelogin.service.context import Services
from securelogin.service.health import check_health


class Health(BaseModel):
    status: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    code: str
    message: str


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="securelogin", version="0.1.0",
                  summary="Secure Login System for brokerages",
                  docs_url=None, redoc_url=None)
    problems.install(app)

    @app.get("/healthz", response_model=Health, tags=["operations"],
             responses={503: {"model": Problem, "description": "database unavailable"}})
    def healthz() -> Health:
        """``{"status":"ok"}`` once the database answers (SPEC §10.2)."""
        return Health(status=check_health(services))

    app.include_router(portal.build_router(services))
    app.mount("/static", StaticFiles(directory=portal.STATIC_DIR), name="static")
    return app
