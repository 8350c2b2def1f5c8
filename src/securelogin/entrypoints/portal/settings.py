"""Client Portal pages: security settings: opt-out, opting back in, device sharing (issue 6, …

R-OPT, R-SHARE).
"""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.portal.web import Pages
from securelogin.service.context import Services


def build_router(services: Services, pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    return router
