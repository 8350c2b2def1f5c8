"""The push providers against loopback fakes of Web Push, FCM v1 (with its OAuth2 token
endpoint) and APNs (HTTP/2), served by hypercorn on 127.0.0.1 — no network (R-KEY-4,
SPEC §8 "Channels").  And: one app that cannot be reached never blocks the others."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi.testclient import TestClient
from hypercorn.asyncio import serve
from hypercorn.config import Config

from securelogin.adapters.push.apns import ApnsProvider
from securelogin.adapters.push.fcm import FcmProvider
from securelogin.adapters.push.webpush import WebPushProvider
from securelogin.entrypoints.api.app import create_app
from securelogin.errors import DeliveryFailed
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from securelogin.service.mobile_key_ports import MobileKeyPorts
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.cli import free_port
from tests.fakes import FakeClock
from tests.mobile_key_app import TestApp


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    head, claims, sig = token.split(".")
    return (
        json.loads(unb64(head)),
        json.loads(unb64(claims)),
        f"{head}.{claims}".encode(),
        unb64(sig),
    )


@dataclass
class Provider:
    """One fake for all three providers: records what arrived, answers like the real one."""

    rsa_public: rsa.RSAPublicKey | None = None
    apns_public: ec.EllipticCurvePublicKey | None = None
    webpush_keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, answer = self.handle(scope["path"], headers, body, scope["http_version"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    def handle(
        self, path: str, headers: dict[str, str], body: bytes, version: str
    ) -> tuple[int, Any]:
        if path == "/token":  # OAuth2 JWT bearer grant (RFC 7523)
            form = dict(p.split("=", 1) for p in body.decode().split("&"))
            _, claims, signed, sig = jwt_parts(form["assertion"])
            assert self.rsa_public is not None
            self.rsa_public.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
            assert claims["scope"].endswith("firebase.messaging")
            return 200, {"access_token": "ya29.fake", "expires_in": 3600, "token_type": "Bearer"}
        if path.startswith("/v1/projects/"):
            assert headers["authorization"] == "Bearer ya29.fake"
            token = json.loads(body)["message"]["token"]
            self.received.append({"provider": "fcm", "to": token, "data": json.loads(body)})
            if token in self.failing:
                return 503, {"error": {"status": "UNAVAILABLE"}}
            return 200, {"name": "projects/p/messages/1"}
        if path.startswith("/3/device/"):
            head, claims, signed, sig = jwt_parts(headers["authorization"].split(" ", 1)[1])
            assert self.apns_public is not None and head["alg"] == "ES256"
            der = encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )
            self.apns_public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            token = path.rsplit("/", 1)[1]
            self.received.append(
                {
                    "provider": "apns",
                    "to": token,
                    "http": version,
                    "data": json.loads(body),
                    "topic": headers["apns-topic"],
                }
            )
            if token in self.failing:
                return 410, {"reason": "Unregistered"}
            return 200, {}
        if path.startswith("/wp/"):
            endpoint = path.rsplit("/", 1)[1]
            private, auth = self.webpush_keys[endpoint]
            assert headers["content-encoding"] == "aes128gcm"
            assert headers["authorization"].startswith("vapid t=")
            plain = http_ece.decrypt(
                body, private_key=private, auth_secret=auth, version="aes128gcm"
            )
            self.received.append({"provider": "webpush", "to": endpoint, "data": json.loads(plain)})
            return 201, {}
        return 404, {}


@pytest.fixture
def fake() -> Iterator[tuple[Provider, str]]:
    provider = Provider()
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await serve(provider, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/ready", timeout=1)
            break
        except httpx.TransportError:
            threading.Event().wait(0.05)
    yield provider, base
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=10)
    loop.close()


def test_R_KEY_4_fcm_v1_gets_an_oauth_token_and_sends_only_the_push_id(
    fake: tuple[Provider, str],
) -> None:
    provider, base = fake
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.rsa_public = key.public_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credentials = {
        "client_email": "sl@p.iam.gserviceaccount.com",
        "private_key": pem,
        "token_uri": f"{base}/token",
        "project_id": "p",
    }
    with httpx.Client() as client:
        fcm = FcmProvider(client, credentials=credentials, api=base)
        fcm.send(target="device-token-1", push_id="ps_1")
        fcm.send(target="device-token-2", push_id="ps_2")  # the token is reused
        provider.failing.add("down")
        with pytest.raises(DeliveryFailed) as failed:
            fcm.send(target="down", push_id="ps_3")
    assert failed.value.retryable
    sent = [r for r in provider.received if r["provider"] == "fcm"]
    assert sent[0]["data"] == {"message": {"token": "device-token-1", "data": {"push_id": "ps_1"}}}


def test_R_KEY_4_apns_goes_over_http2_with_an_es256_provider_token(
    fake: tuple[Provider, str],
) -> None:
    provider, base = fake
    key = ec.generate_private_key(ec.SECP256R1())
    provider.apns_public = key.public_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with httpx.Client(http1=False, http2=True) as client:  # h2c with prior knowledge
        apns = ApnsProvider(
            client, key_pem=pem, key_id="KEY123", team_id="TEAM", topic="com.sl.key", api=base
        )
        apns.send(target="abcdef", push_id="ps_9")
        provider.failing.add("gone")
        with pytest.raises(DeliveryFailed) as failed:
            apns.send(target="gone", push_id="ps_10")
    assert not failed.value.retryable  # 410 Unregistered: the token is dead
    [first, _] = provider.received
    assert first["http"] == "2" and first["topic"] == "com.sl.key"
    assert first["data"] == {"aps": {"content-available": 1}, "push_id": "ps_9"}


def test_R_KEY_4_web_push_is_encrypted_for_the_subscription_and_signed_with_vapid(
    fake: tuple[Provider, str],
) -> None:
    provider, base = fake
    receiver = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    provider.webpush_keys["sub1"] = (receiver, auth)
    raw = receiver.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    subscription = {
        "endpoint": f"{base}/wp/sub1",
        "keys": {
            "p256dh": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(auth).decode().rstrip("="),
        },
    }
    vapid = ec.generate_private_key(ec.SECP256R1())
    vapid_pem = vapid.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    WebPushProvider(vapid_private_key=vapid_pem, subject="mailto:ops@example.com").send(
        target=json.dumps(subscription), push_id="ps_w"
    )
    [got] = provider.received
    assert got == {"provider": "webpush", "to": "sub1", "data": {"push_id": "ps_w"}}


def test_R_KEY_4_an_app_that_cannot_be_reached_never_blocks_the_others(
    fake: tuple[Provider, str], services: Services, clock: FakeClock
) -> None:
    provider, base = fake
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider.rsa_public = key.public_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credentials = {
        "client_email": "sl@p.iam.gserviceaccount.com",
        "private_key": pem,
        "token_uri": f"{base}/token",
        "project_id": "p",
    }
    Brokerage().user("alice", KINDS["sms"].device).user("bob", phone="+15551230077").load(services)
    assert services.mobile is not None
    with httpx.Client() as client:
        fcm = FcmProvider(client, credentials=credentials, api=base)
        wired = replace(
            services, mobile=MobileKeyPorts(crypto=services.mobile.crypto, providers={"fcm": fcm})
        )
        provider.failing.add("tok-down")
        with TestClient(create_app(wired)) as api:
            down, up = TestApp(clock), TestApp(clock)
            down.activate(api, wired, "alice", push={"provider": "fcm", "token": "tok-down"})
            up.activate(
                api, wired, "bob", push={"provider": "fcm", "token": "tok-up"}, phone="+15551230077"
            )
            for name in ("alice", "bob"):
                api.post(
                    "/api/v1/logins",
                    json={"username": name, "password": PASSWORD, "platform": "portal"},
                )
            assert [r["to"] for r in provider.received] == ["tok-down", "tok-up"]
            with wired.uow() as uow:
                rows = uow.outbox.recent(to=None, limit=10, channels=["push"])
            assert sorted((r.to == down.app_id, r.sent_at is None) for r in rows) == [
                (False, False),
                (True, True),
            ]  # the other one was delivered; this one waits
            assert len(down.pushes(api)) == 1  # the pull channel has it anyway
            provider.failing.clear()
            clock.advance(minutes=5)
            assert push.deliver_wakeups(wired) == 1  # retried from the outbox
