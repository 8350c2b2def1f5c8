"""Every app of a process shares the routes of the module-level routers (issue 10: a
cheap ``create_app``; issue 11: handlers at module level).

The handlers read their app's services from ``request.app.state``, so two apps built
around two databases answer each from its own, through the same route objects; and the
OpenAPI document is the one ``include_router`` of the same routers gives.  SQLite only:
nothing here depends on the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap
from securelogin.entrypoints.api import app as api_app
from securelogin.entrypoints.api import funds, key_webpush, keys, logins, passkeys, selfservice
from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.console import routes as console
from securelogin.entrypoints.keyapp import routes as keyapp
from securelogin.entrypoints.oidc import browser as oidc_browser
from securelogin.entrypoints.oidc import metadata as oidc_metadata
from securelogin.entrypoints.oidc import routes as oidc
from securelogin.entrypoints.portal import (
    account,
    lifecycle,
    mobile_key,
    settings,
    verify,
    withdraw,
)
from securelogin.entrypoints.portal import passkeys as portal_passkeys
from securelogin.entrypoints.portal import routes as portal
from securelogin.service.context import Services
from tests.conftest import make_settings
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock

#: every module-level router create_app puts on an app
MODULE_LEVEL = (
    api_app.operations,
    logins.router,
    keys.router,
    key_webpush.router,
    funds.router,
    passkeys.router,
    selfservice.router,
    console.router,
    portal.router,
    verify.router,
    account.router,
    withdraw.router,
    mobile_key.router,
    portal_passkeys.router,
    settings.router,
    lifecycle.router,
    keyapp.router,
    oidc_metadata.router,
    oidc_browser.router,
    oidc.router,
)


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    a, b = (
        bootstrap(make_settings(f"sqlite:///{tmp_path}/{n}.db"), migrate=True, clock=FakeClock())
        for n in ("a", "b")
    )
    yield a, b
    a.database.close()
    b.database.close()


def included(app: FastAPI) -> dict[int, APIRouter]:
    """The app's top-level routes that include a router, by route id (``original_router``
    is how FastAPI keeps an included router in the app's route list)."""
    return {
        id(route): router
        for route in app.router.routes
        if isinstance(router := getattr(route, "original_router", None), APIRouter)
    }


def test_two_apps_share_the_module_level_routes_and_answer_from_their_own_services(
    two: tuple[Services, Services],
) -> None:
    a, b = two
    app_a, app_b = create_app(a), create_app(b)
    in_a, in_b = included(app_a), included(app_b)
    # no router is built around one app's services (issue 11): every included route is
    # the process's shared one, and each module-level router is included once
    assert in_a.keys() == in_b.keys()
    assert sorted(id(r) for r in in_a.values()) == sorted(id(r) for r in MODULE_LEVEL)

    Brokerage().user("alice", KINDS["dsc"].device).load(a)
    with TestClient(app_a) as api_a, TestClient(app_b) as api_b:
        body = {"username": "alice", "password": PASSWORD, "platform": "portal"}
        started = api_a.post("/api/v1/logins", json=body)
        assert started.status_code == 201, started.text
        login_id = started.json()["login_id"]
        assert api_a.get(f"/api/v1/logins/{login_id}").json()["status"] == "challenge"
        assert api_b.get(f"/api/v1/logins/{login_id}").status_code == 404
        assert api_b.post("/api/v1/logins", json=body).json()["code"] == "invalid_credentials"
        assert api_a.get("/healthz").json() == {"status": "ok"}
        assert api_b.get("/").status_code == 200  # the portal's pages of app b's own


def test_the_openapi_document_is_the_one_include_router_gives(
    two: tuple[Services, Services],
) -> None:
    a, b = two
    create_app(b)  # the routes were made for another app first
    app = create_app(a)
    twin = APIRouter()
    for route in app.router.routes:
        router = getattr(route, "original_router", None)
        if isinstance(router, APIRouter) and any(router is r for r in MODULE_LEVEL):
            twin.include_router(router)
        else:
            twin.routes.append(route)
    expected = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=twin.routes
    )
    assert app.openapi() == expected
    assert "/api/v1/logins/{login_id}" in expected["paths"]
