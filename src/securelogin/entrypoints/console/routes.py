"""The operator console's router: every console page hangs under ``/console``."""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.service.context import Services


def build_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    return router
