"""JSON API: withdrawals (R-WD, R-LIMIT) and restrictions (R-RESTRICT-1)."""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.service.context import Services


def build_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    return router
