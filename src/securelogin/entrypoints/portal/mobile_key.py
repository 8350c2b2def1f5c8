"""Client Portal pages: mobile key activation from the security settings, QR activation …

(issue 4, R-KEY).
"""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.portal.web import Pages
from securelogin.service.context import Services


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    return router
