"""The operator console's routes: every console page hangs under ``/console``.

Each feature module contributes ``MENU`` (its entries on the home page and in the menu)
and a module-level ``router``; add a module to :data:`FEATURES` with one line.
:func:`install` puts the console's pages (``app.state.console_pages``, which the
handlers receive as ``pages: ConsolePagesDep``) and its routes (shared by every app of the process,
:mod:`securelogin.entrypoints.web.routing`) on the app.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from securelogin.entrypoints.console import (
    admin,
    auth,
    closure,
    compliance,
    helpdesk,
    logistics,
)
from securelogin.entrypoints.console.web import ConsolePages
from securelogin.entrypoints.web.routing import add_shared
from securelogin.service.context import Services

#: the console's page modules, in menu order (one line per feature)
FEATURES = (helpdesk, compliance, logistics, admin, closure)

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
for _feature in FEATURES:
    router.include_router(_feature.router)


def install(app: FastAPI, services: Services) -> None:
    """The console on ``app``: its pages in ``app.state`` and its routes."""
    app.state.console_pages = ConsolePages(
        services, [item for feature in FEATURES for item in feature.MENU]
    )
    add_shared(app, router)
