"""``GET /healthz``: the service is healthy once the database answers."""

from __future__ import annotations

from securelogin.service.context import Services


def check_health(services: Services) -> str:
    services.database.ping()
    return "ok"
