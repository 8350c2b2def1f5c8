"""A ready soft mobile key for one demo user (``demo-keys/<user>``), so that
``securelogin key --home demo-keys/frank approve --number NN`` answers a demo login at once.

The demo is loaded before its server listens, so the key activates the way a phone would
(R-KEY-1: password, SMS code from the demo outbox, app PIN, recovery PIN) but over an
in-process transport into the same ASGI app; the key home records the URL the demo is
about to serve.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from securelogin.service import notifications
from securelogin.service.context import Services
from securelogin.service.operators.demo import DEMO_PASSWORD
from securelogin_key import app as key

if TYPE_CHECKING:
    from starlette.types import ASGIApp

DEMO_KEYS_FOLDER = "demo-keys"
DEMO_KEY_USER = "frank"
DEMO_KEY_PHONE = "+15551230006"  # frank's phone on record in the demo file
DEMO_APP_PIN = "2468"  # printed for people trying the demo
DEMO_RECOVERY_PIN = "k3y!"


class InProcessTransport(httpx.BaseTransport):
    """Sync HTTP calls straight into an ASGI app, each on its own event loop (demo set-up
    only: the server does not listen yet)."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return asyncio.run(self._handle(request))

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        answer = await self._asgi.handle_async_request(request)
        body = await answer.aread()
        return httpx.Response(answer.status_code, headers=answer.headers, content=body)


def prepare_demo_key(services: Services, folder: Path, *, server: str, fresh: bool) -> Path:
    """Activate the demo user's soft key into ``folder/<user>`` unless it is there already;
    ``fresh`` (a newly loaded demo database) replaces a home left by an earlier demo.
    Raises ``securelogin_key.errors.KeyAppError`` when the activation is refused."""
    home = folder / DEMO_KEY_USER
    if home.exists() and not fresh:
        return home
    shutil.rmtree(home, ignore_errors=True)  # a key of an earlier demo database is void
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def secret(prompt: str) -> str:
        if prompt == "Password":
            return DEMO_PASSWORD
        if prompt == "SMS activation code":
            text = notifications.recent_messages(services, to=DEMO_KEY_PHONE, limit=1)[-1].text
            return text.split()[0]
        if prompt.startswith("App PIN"):
            return DEMO_APP_PIN
        return DEMO_RECOVERY_PIN

    # the web app (FastAPI and every route) is loaded only here: every other command of
    # the CLI starts without it (0.5 s of CPU less per command)
    from securelogin.entrypoints.api.app import create_app

    transport = InProcessTransport(create_app(services))
    ctx = key.Context(home=home, secret=secret, say=lambda _line: None, transport=transport)
    key.activate(ctx, server=server, username=DEMO_KEY_USER, phone=None, country=None)
    return home


def describe_key(home: Path, command: str) -> str:
    return (
        f"mobile key of {DEMO_KEY_USER} ready in {home} (app PIN {DEMO_APP_PIN}): log in as "
        f"{DEMO_KEY_USER}, then in a second terminal: {command} key --home {home} approve "
        "--number NN (the number on the login screen)"
    )
