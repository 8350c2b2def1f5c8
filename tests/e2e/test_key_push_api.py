"""Notifications turned on and off after the activation (issue 15): the signed
``PUT``/``DELETE /api/v1/key/apps/{app_id}/push`` set or clear an app's wake-up target.
A Web Push subscription must have an https endpoint (plain http only for a host the
settings name: a loopback push-service fake) and well-formed RFC 8291 keys; anything else
is 422 ``push_subscription_rejected`` and changes nothing, and a call that is not the
app's signature changes nothing either.  The target set is the one the next login's
wake-up goes to.  In-process, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from securelogin.config import Settings
from securelogin.entrypoints.api.app import create_app
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from tests.conftest import make_settings
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp, b64url

#: the loopback push-service fake these tests may name over plain http
FAKE_PUSH_HOST = "127.0.0.1:8099"
BOB_PHONE = "+15551230077"


def p256dh() -> str:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point)


def subscription(endpoint: str = "https://push.example.net/wp/abc123", **keys: str) -> Any:
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": p256dh(), "auth": b64url(secrets.token_bytes(16))} | keys,
    }


@dataclass
class Recorder:
    """A Web Push provider that records where each wake-up would go."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, *, target: str, push_id: str) -> None:
        self.sent.append((target, push_id))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, push_webpush_http_hosts=f" {FAKE_PUSH_HOST} ,")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def wired(services: Services, recorder: Recorder) -> Services:
    assert services.mobile is not None
    assert services.mobile.webpush_http_hosts == {FAKE_PUSH_HOST}  # from the settings
    return replace(services, mobile=replace(services.mobile, providers={"webpush": recorder}))


@pytest.fixture
def api(wired: Services) -> Iterator[TestClient]:
    with TestClient(create_app(wired)) as client:
        yield client


@pytest.fixture
def app(api: TestClient, wired: Services, clock: FakeClock) -> TestApp:
    sms = KINDS["sms"].device
    Brokerage().user("alice", sms).user("bob", sms, phone=BOB_PHONE).load(wired)
    key = TestApp(clock)
    key.activate(api, wired)
    return key


def target(services: Services, app: TestApp) -> tuple[str | None, Any]:
    with services.uow() as uow:
        row = uow.mobile_keys.app(app.app_id)
    assert row is not None
    return row.push_provider, json.loads(row.push_target) if row.push_target else None


def audit(services: Services) -> list[tuple[str, dict[str, Any]]]:
    with services.uow() as uow:
        return [
            (c.event.action, dict(c.event.data))
            for c in uow.audit.chain()
            if c.event.action.startswith("mobile_key.push_")
        ]


def log_in(api: TestClient) -> None:
    started = api.post(
        "/api/v1/logins", json={"username": "alice", "password": PASSWORD, "platform": "portal"}
    )
    assert started.status_code == 201, started.json()
    assert started.json()["factor"]["prompt"]["type"] == "push"


def test_R_KEY_4_notifications_are_turned_on_after_the_activation_and_off_again(
    api: TestClient, wired: Services, app: TestApp, recorder: Recorder
) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/push"
    assert target(wired, app) == (None, None)  # activated without notifications
    log_in(api)
    push.deliver_wakeups(wired)
    assert recorder.sent == []

    sub = subscription()
    on = app.call(api, "PUT", path, {"provider": "webpush", "subscription": sub})
    assert on.status_code == 204, on.json()
    kept = {"endpoint": sub["endpoint"], "keys": sub["keys"]}  # expirationTime not kept
    assert target(wired, app) == ("webpush", kept)
    assert audit(wired) == [("mobile_key.push_set", {"provider": "webpush"})]
    log_in(api)  # its wake-up goes to the new target (at once, or from the outbox)
    push.deliver_wakeups(wired)
    [(to, push_id)] = recorder.sent
    assert json.loads(to) == kept and push_id.startswith("ps_")

    # a loopback push-service fake named in the settings may be plain http; no other host
    fake = subscription(f"http://{FAKE_PUSH_HOST}/wp/tok")
    local = app.call(api, "PUT", path, {"provider": "webpush", "subscription": fake})
    assert local.status_code == 204
    assert target(wired, app)[1]["endpoint"] == fake["endpoint"]

    off = app.call(api, "DELETE", path)
    assert off.status_code == 204
    assert target(wired, app) == (None, None)
    assert audit(wired)[-1] == ("mobile_key.push_cleared", {})
    recorder.sent.clear()
    log_in(api)
    push.deliver_wakeups(wired)
    assert recorder.sent == []
    assert len(app.pushes(api)) == 3  # the pull channel has every request anyway


BAD_SUBSCRIPTIONS = {
    "http endpoint": subscription("http://push.example.net/wp/x"),
    "http on the fake's host, another port": subscription("http://127.0.0.1:8098/wp/x"),
    "no scheme": subscription("push.example.net/wp/x"),
    "ftp": subscription("ftp://push.example.net/wp/x"),
    "user in the URL": subscription("https://me:pw@push.example.net/wp/x"),
    "no host": subscription("https:///wp/x"),
    "space in the URL": subscription("https://push.example.net/wp/a b"),
    "bad port": subscription("https://push.example.net:99999/wp/x"),
    "endpoint too long": subscription("https://push.example.net/" + "a" * 2000),
    "endpoint not a string": subscription() | {"endpoint": 7},
    "no keys": {"endpoint": "https://push.example.net/wp/x"},
    "keys not an object": subscription() | {"keys": "p256dh"},
    "no auth": subscription() | {"keys": {"p256dh": p256dh()}},
    "auth 15 bytes": subscription(auth=b64url(secrets.token_bytes(15))),
    "auth not base64url": subscription(auth="not base64!!"),
    "p256dh compressed": subscription(p256dh=b64url(b"\x02" + secrets.token_bytes(32))),
    "p256dh 64 bytes": subscription(p256dh=b64url(b"\x04" + secrets.token_bytes(63))),
    "p256dh standard base64": subscription(
        p256dh=base64.b64encode(b"\x04" + b"\xff" * 64).decode()
    ),
}
BAD_BODIES = {
    **{name: {"provider": "webpush", "subscription": s} for name, s in BAD_SUBSCRIPTIONS.items()},
    "subscription null": {"provider": "webpush", "subscription": None},
    "subscription missing": {"provider": "webpush"},
    "unknown provider": {"provider": "pigeon", "token": "t"},
    "fcm without token": {"provider": "fcm"},
    "fcm token too long": {"provider": "fcm", "token": "t" * 4001},
    "not an object": ["webpush"],
}


def test_R_KEY_4_a_bad_push_subscription_is_refused_and_nothing_changes(
    api: TestClient, wired: Services, app: TestApp
) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/push"
    good = {"provider": "webpush", "subscription": subscription()}
    assert app.call(api, "PUT", path, good).status_code == 204
    before = target(wired, app)
    for name, body in BAD_BODIES.items():
        refused = app.call(api, "PUT", path, body)
        assert refused.status_code == 422, name
        assert refused.json()["code"] == "push_subscription_rejected", (name, refused.json())
        assert refused.json()["field"] == "push", name
    broken = api.put(
        path,
        content=b"{not json",
        headers=app.headers("PUT", path, b"{not json") | {"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["code"] == "push_subscription_rejected"
    assert target(wired, app) == before
    assert [a for a, _ in audit(wired)] == ["mobile_key.push_set"]


def test_R_KEY_4_only_the_apps_own_signature_changes_its_push_target(
    api: TestClient, wired: Services, app: TestApp, clock: FakeClock
) -> None:
    path = f"/api/v1/key/apps/{app.app_id}/push"
    body = {"provider": "webpush", "subscription": subscription()}
    raw = json.dumps(body).encode()
    json_type = {"Content-Type": "application/json"}
    thief = TestApp(clock, app_id=app.app_id)  # another key claiming the app's id
    other_body = json.dumps({"provider": "fcm", "token": "t"}).encode()
    attempts = {
        "no signature": api.put(path, content=raw, headers=json_type),
        "another key": thief.call(api, "PUT", path, body),
        "stale time": api.put(path, content=raw, headers=app.headers("PUT", path, raw, skew=300)),
        "signed another body": api.put(
            path, content=raw, headers=app.headers("PUT", path, other_body) | json_type
        ),
        "signed another path": api.put(
            path, content=raw, headers=app.headers("PUT", path + "x", raw) | json_type
        ),
        "delete, another key": thief.call(api, "DELETE", path),
    }
    for name, refused in attempts.items():
        assert refused.status_code == 401, name
        assert refused.json()["code"] == "key_signature_invalid", name
    assert target(wired, app) == (None, None)
    assert audit(wired) == []

    # an app acts only on itself
    bob = TestApp(clock)
    bob.activate(api, wired, "bob", phone=BOB_PHONE)
    other = bob.call(api, "PUT", path, body)
    assert other.status_code == 401 and other.json()["code"] == "key_signature_invalid"
    assert target(wired, app) == (None, None)


def test_R_KEY_4_an_activation_with_a_bad_subscription_is_refused(
    api: TestClient, wired: Services, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["sms"].device).load(wired)
    started = api.post("/api/v1/key/activations", json={"username": "alice", "password": PASSWORD})
    activation = started.json()["activation_id"]
    phone_id = started.json()["phones"][0]["phone_id"]
    assert api.post(f"/api/v1/key/activations/{activation}/code", json={"phone_id": phone_id})
    key = TestApp(clock)
    body = {
        "code": "000000",  # never compared: the subscription is refused first
        "public_key": key.public_key,
        "recovery_pin": "k3y!",
        "push": {"provider": "webpush", "subscription": BAD_SUBSCRIPTIONS["http endpoint"]},
    }
    refused = api.post(f"/api/v1/key/activations/{activation}/complete", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "push_subscription_rejected"
    with wired.uow() as uow:
        still = uow.mobile_keys.activation(activation)
    assert still is not None and still.ended_at is None and still.attempts == 0
    assert scalar(url_of(wired), "SELECT count(*) FROM key_apps") == 0
