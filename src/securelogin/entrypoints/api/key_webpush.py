"""JSON API: the server's Web Push key for the mobile key web app (docs/mobile-key-app.md).

``GET /api/v1/key/webpush`` → ``{"application_server_key": …}``: base64url of the VAPID
P-256 public point, or ``null`` when Web Push is not configured (the app then relies on
its pull channel). Public and unsigned: a public key, the same for every app.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from securelogin.entrypoints.api.problems import problem_responses
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service.login import webpush_app


class WebPushKeyOut(BaseModel):
    application_server_key: str | None


router = APIRouter(prefix="/api/v1/key", tags=["mobile key"])


@router.get("/webpush", response_model=WebPushKeyOut, responses=problem_responses())
def webpush_key(services: ServicesDep) -> WebPushKeyOut:
    """The VAPID public key a browser subscribes with (RFC 8292 §3.2), if any."""
    return WebPushKeyOut(application_server_key=webpush_app.application_server_key(services))
