"""The self-service calls of the JSON API (issue 16 §3), one router for ``create_app``.

Each action a client can take in the Client Portal has a call here, calling the same use
case as the portal's page: settings and sharing
(:mod:`~securelogin.entrypoints.api.selfservice_settings`), the lost-device story and
returns (:mod:`~securelogin.entrypoints.api.selfservice_lifecycle`), the message centre
and documents (:mod:`~securelogin.entrypoints.api.selfservice_inbox`).  Who may call
them: :mod:`~securelogin.entrypoints.api.selfservice_auth`.  docs/api.md lists them.
"""

from __future__ import annotations

from fastapi import APIRouter

from securelogin.entrypoints.api import (
    selfservice_inbox,
    selfservice_lifecycle,
    selfservice_settings,
)

router = APIRouter()
router.include_router(selfservice_settings.router)
router.include_router(selfservice_lifecycle.router)
router.include_router(selfservice_inbox.router)
