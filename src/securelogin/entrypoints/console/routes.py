"""The operator console's router: every console page hangs under ``/console``.

Each feature module contributes ``MENU`` (its entries on the home page and in the menu)
and ``build_router(services, pages)``; add a module to :data:`FEATURES` with one line.
"""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.console import (
    admin,
    auth,
    closure,
    compliance,
    helpdesk,
    logistics,
)
from securelogin.entrypoints.console.web import ConsolePages
from securelogin.service.context import Services

#: the console's page modules, in menu order (one line per feature)
FEATURES = (helpdesk, compliance, logistics, admin, closure)


def build_router(services: Services) -> APIRouter:
    pages = ConsolePages(services, [item for feature in FEATURES for item in feature.MENU])
    router = APIRouter(include_in_schema=False)
    router.include_router(auth.build_router(services, pages))
    for feature in FEATURES:
        router.include_router(feature.build_router(services, pages))
    return router
