"""Client Portal pages: online code card, replacement request, returns, documents (issue 6, …

R-LOST, R-RETURN, R-CLOSE).
"""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.portal.web import Pages
from securelogin.service.context import Services


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    return router
