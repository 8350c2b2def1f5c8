"""Where the portal's login goes once it has a session: back to a waiting OpenID Connect
authorization request when the browser carries one (cookie ``sl_oidc``, HttpOnly,
SameSite=Strict, set by ``/oauth/authorize``), else the session's landing page."""

from __future__ import annotations

from fastapi import Request

OIDC_COOKIE = "sl_oidc"
RESUME_PATH = "/oauth/authorize/resume"


def after_login(request: Request, landing: str) -> str:
    return RESUME_PATH if request.cookies.get(OIDC_COOKIE) else landing
