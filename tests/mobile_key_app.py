"""A test mobile key app: a real P-256 key pair (cryptography) that activates over HTTP,
signs its calls and answers pushes as docs/mobile-key-protocol.md says."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from securelogin.domain import otp
from securelogin.domain.devices.registry import MOBILE_KEY_SUITE
from securelogin.service.context import Services
from tests.devices import PASSWORD, PHONE
from tests.fakes import FakeClock

RECOVERY_PIN = "k3y!"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def last_sms(services: Services, to: str = PHONE) -> str:
    with services.uow() as uow:
        return uow.outbox.recent(to=to, limit=1, channels=["sms"])[-1].text


@dataclass
class TestApp:
    """The app side; ``clock`` gives X-SL-Time (the server checks ±120 s)."""

    clock: FakeClock
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    app_id: str = ""
    server_key: str = ""
    secrets: dict[str, bytes] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)

    __test__ = False  # not a pytest class

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return b64url(der)

    def sign(self, message: bytes) -> str:
        return b64url(self.key.sign(message, ec.ECDSA(hashes.SHA256())))

    def headers(self, method: str, path: str, body: bytes = b"", skew: int = 0) -> dict[str, str]:
        stamp = str(int(self.clock.now().timestamp()) + skew)
        digest = hashlib.sha256(body).hexdigest()
        signed = f"{method}\n{path}\n{stamp}\n{digest}".encode()
        return {"X-SL-App": self.app_id, "X-SL-Time": stamp, "X-SL-Signature": self.sign(signed)}

    def call(self, api: TestClient, method: str, path: str, body: object = None) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        headers = self.headers(method, path, raw) | {"Content-Type": "application/json"}
        return api.request(method, path, content=raw, headers=headers)

    def activate(
        self,
        api: TestClient,
        services: Services,
        username: str = "alice",
        pin: str = RECOVERY_PIN,
        push: dict[str, Any] | None = None,
        phone: str = PHONE,
        extra: dict[str, Any] | None = None,
    ) -> Any:
        started = api.post(
            "/api/v1/key/activations", json={"username": username, "password": PASSWORD}
        )
        assert started.status_code == 201, started.json()
        activation = started.json()
        chosen = next(p for p in activation["phones"] if p["preselected"])
        sent = api.post(
            f"/api/v1/key/activations/{activation['activation_id']}/code",
            json={"phone_id": chosen["phone_id"]},
        )
        assert sent.status_code == 200, sent.json()
        code = last_sms(services, phone)[:6]
        body: dict[str, Any] = {"code": code, "public_key": self.public_key, "recovery_pin": pin}
        if push is not None:
            body["push"] = push
        body |= extra or {}
        done = api.post(
            f"/api/v1/key/activations/{activation['activation_id']}/complete", json=body
        )
        assert done.status_code == 201, done.json()
        self.remember(done.json())
        return done.json()

    def remember(self, enrolled: dict[str, Any]) -> None:
        self.app_id = enrolled.get("app_id", self.app_id)
        self.server_key = enrolled.get("server_public_key", self.server_key)
        self.secrets[enrolled["username"]] = unb64url(enrolled["ocra"]["secret"])
        self.devices[enrolled["username"]] = enrolled["device_id"]

    def pushes(self, api: TestClient, wait: float = 0) -> list[dict[str, Any]]:
        path = f"/api/v1/key/apps/{self.app_id}/pushes" + (f"?wait={wait:g}" if wait else "")
        got = self.call(api, "GET", path)
        assert got.status_code == 200, got.json()
        pushes: list[dict[str, Any]] = got.json()["pushes"]
        for p in pushes:
            self.check_server_signature(p)
        return pushes

    def check_server_signature(self, push: dict[str, Any]) -> None:
        server = serialization.load_der_public_key(unb64url(self.server_key))
        assert isinstance(server, ec.EllipticCurvePublicKey)
        unsigned = {k: v for k, v in push.items() if k != "signature"}
        server.verify(unb64url(push["signature"]), canonical(unsigned), ec.ECDSA(hashes.SHA256()))

    def answer_body(
        self, push: dict[str, Any], decision: str, number: str | None, not_me: bool = False
    ) -> dict[str, Any]:
        request = hashlib.sha256(canonical(push)).hexdigest()
        payload = {
            "push_id": push["push_id"],
            "request": request,
            "decision": decision,
            "number": number,
            "not_me": not_me,
        }
        return {
            "decision": decision,
            "number": number,
            "not_me": not_me,
            "signature": self.sign(canonical(payload)),
        }

    def answer(
        self,
        api: TestClient,
        push: dict[str, Any],
        decision: str = "approve",
        number: str | None = None,
        not_me: bool = False,
    ) -> Any:
        body = self.answer_body(push, decision, number, not_me)
        return self.call(api, "POST", f"/api/v1/key/pushes/{push['push_id']}/answer", body)

    def respond(self, username: str, challenge: str) -> str:
        """The offline fallback: the 8-digit OCRA response (R-KEY-5)."""
        suite = otp.parse_ocra_suite(MOBILE_KEY_SUITE)
        return otp.ocra(suite, self.secrets[username], question=challenge)
