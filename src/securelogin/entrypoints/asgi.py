"""ASGI factory for process managers: ``uvicorn --factory securelogin.entrypoints.asgi:create``.

Reads the settings from the environment (``SECURELOGIN_*``), so that several worker
processes on one PostgreSQL behave as one service (SPEC §8, Storage).
"""

from __future__ import annotations

from fastapi import FastAPI

from securelogin.bootstrap import bootstrap, load_settings, wakeups_for
from securelogin.config import Environment
from securelogin.entrypoints.api.app import create_app


def create() -> FastAPI:
    settings = load_settings()
    return create_app(
        bootstrap(settings),
        background_every=settings.background_interval_seconds,
        trusted_proxies=settings.trusted_proxy_networks,
        production=settings.env is Environment.PRODUCTION,
        wakeups=wakeups_for(settings),
        threads=settings.threads,
    )
