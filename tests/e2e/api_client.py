"""Another application's side of the JSON API (issue 16 §3): log in over HTTP as SPEC
§10.2 says (``POST /api/v1/logins``, then the device's answer) and call with the bearer
session token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.devices import KINDS, PASSWORD


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_log_in(
    api: TestClient,
    services: Services,
    username: str,
    *,
    answer: Callable[[dict[str, Any]], str] | None = None,
    platform: str = "portal",
) -> dict[str, Any]:
    """The session of a login over HTTP; the device's answer comes from ``answer(prompt)``
    or, by default, from the test player of the device kind the server picked."""
    started = api.post(
        "/api/v1/logins", json={"username": username, "password": PASSWORD, "platform": platform}
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    if body["status"] == "authenticated":
        session: dict[str, Any] = body["session"]
        return session
    factor = body["factor"]
    if answer is None:
        response = KINDS[factor["kind"]].answer(factor["prompt"], services.clock.now(), services)
    else:
        response = answer(factor["prompt"])
    done = api.post(f"/api/v1/logins/{body['login_id']}/answer", json={"response": response})
    assert done.status_code == 200, done.json()
    session = done.json()["session"]
    return session


def token_of(
    api: TestClient,
    services: Services,
    username: str,
    *,
    answer: Callable[[dict[str, Any]], str] | None = None,
) -> str:
    return str(api_log_in(api, services, username, answer=answer)["token"])
