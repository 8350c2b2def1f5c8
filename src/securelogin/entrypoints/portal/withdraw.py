"""Client Portal pages: withdrawals with remaining limits (issue 5, R-WD, R-LIMIT)."""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.portal.web import Pages
from securelogin.service.context import Services


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    return router
