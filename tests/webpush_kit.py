"""Web Push for tests of the mobile key web app: a provider with a fresh VAPID key,
services whose server offers it, and the loopback fakes a browser's real subscription
needs (Google's GCM check-in and registration, an RFC 8030 push service)."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import secrets
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from securelogin.adapters.push.webpush import WebPushProvider
from securelogin.adapters.security.ecdsa import EcdsaPushCrypto
from securelogin.service.context import Services
from securelogin.service.mobile_key_ports import MobileKeyPorts


def vapid_provider() -> tuple[WebPushProvider, bytes]:
    """A Web Push provider with a fresh VAPID key, and the key's uncompressed point."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return WebPushProvider(vapid_private_key=pem, subject="mailto:ops@example.com"), point


def with_webpush(services: Services, provider: Any) -> Services:
    """``services`` whose server offers Web Push through ``provider``."""
    mobile = services.mobile or MobileKeyPorts(crypto=EcdsaPushCrypto(b"m" * 32))
    return replace(services, mobile=replace(mobile, providers={"webpush": provider}))


# -- a browser's real subscription, without Google (issue 15) -------------------------------
#
# Chromium subscribes through Google's GCM: a check-in (protobuf AndroidCheckinRequest →
# AndroidCheckinResponse) and a registration (a form POST answered ``token=…``). Its
# switches --gcm-checkin-url and --gcm-registration-url point both at FakeGcm; the
# subscription's endpoint is then Google's URL with our token, and its keys are the
# browser's own (RFC 8291). Chromium's push connection (MCS, --gcm-mcs-endpoint) is not
# faked: a message never reaches the browser from here.


def _varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([low])
        out += bytes([low | 0x80])


def checkin_response(android_id: int, security_token: int, time_msec: int) -> bytes:
    """AndroidCheckinResponse: stats_ok (1, bool), time_msec (3, int64), android_id (7,
    fixed64), security_token (8, fixed64) — what Chromium's GCM client requires."""
    return (
        b"\x08\x01"
        + b"\x18"
        + _varint(time_msec)
        + b"\x39"
        + struct.pack("<Q", android_id)
        + b"\x41"
        + struct.pack("<Q", security_token)
    )


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class FakeGcm:
    """Google's GCM check-in and registration as Chromium's GCM client speaks them."""

    token: str = field(default_factory=lambda: "tok-" + secrets.token_urlsafe(24))
    checkins: int = 0
    registrations: list[dict[str, str]] = field(default_factory=list)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        gcm = self

        class Handler(_Quiet):
            def do_POST(self) -> None:
                raw = self.body()
                if self.path == "/checkin":
                    gcm.checkins += 1
                    android_id, security_token = 0x1D2C3B4A59687706, 0x0F1E2D3C4B5A6978
                    reply = checkin_response(android_id, security_token, int(time.time() * 1000))
                    self.answer(200, reply, "application/x-protobuf")
                elif self.path == "/register3":
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                    gcm.registrations.append(form)
                    self.answer(200, f"token={gcm.token}".encode())
                else:
                    self.answer(404, b"")

        with _serving(Handler) as base:
            yield base

    @staticmethod
    def switches(base: str) -> list[str]:
        """Chromium's switches that send its GCM client here (MCS to a closed port)."""
        return [
            f"--gcm-checkin-url={base}/checkin",
            f"--gcm-registration-url={base}/register3",
            "--gcm-mcs-endpoint=https://127.0.0.1:9/",
        ]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushServiceFake:
    """An RFC 8030 push service on loopback that checks what the application server
    sends: the VAPID JWT (RFC 8292: ES256 by the key in ``k``, which must be
    ``application_server_key``; ``aud`` this origin; ``exp`` within 24 h; a ``sub``) and
    the aes128gcm body (RFC 8188/8291: 16-byte salt, record size, the sender's
    ephemeral P-256 key as key id, a ciphertext with its tag). It cannot decrypt: the
    private key is the browser's."""

    application_server_key: str
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    origin: str = ""

    def check(self, path: str, headers: Any, body: bytes) -> dict[str, Any]:
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid", scheme
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        assert fields["k"] == self.application_server_key
        head, claims, signature = fields["t"].split(".")
        assert json.loads(_unb64(head)) == {"typ": "JWT", "alg": "ES256"}
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        claimed = json.loads(_unb64(claims))
        assert claimed["aud"] == self.origin, claimed
        assert time.time() < claimed["exp"] <= time.time() + 24 * 3600
        assert claimed["sub"].startswith(("mailto:", "https:"))
        assert headers["content-encoding"] == "aes128gcm"
        assert int(headers["ttl"]) > 0
        salt, record_size, id_length = body[:16], struct.unpack(">I", body[16:20])[0], body[20]
        sender = body[21 : 21 + id_length]
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)  # on the curve
        assert len(salt) == 16 and record_size >= 18 and id_length == 65
        assert 17 <= len(body) - 21 - id_length <= record_size
        return {"token": path.rsplit("/", 1)[1], "sender_key": sender, "size": len(body)}

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(_Quiet):
            def do_POST(self) -> None:
                raw = self.body()
                try:
                    fake.received.append(fake.check(self.path, self.headers, raw))
                except (AssertionError, KeyError, ValueError, InvalidSignature) as exc:
                    fake.refused.append(repr(exc))
                    self.answer(400, b"")
                    return
                self.answer(201, b"")

        with _serving(Handler) as base:
            self.origin = base
            yield base


@dataclass
class ToLoopback:
    """A test's Web Push provider: the real one (``WebPushProvider``), with the browser's
    endpoint (Google's host) replaced by the loopback push-service fake's — the app's
    stored subscription is untouched."""

    provider: WebPushProvider
    base: str
    targets: list[str] = field(default_factory=list)

    @property
    def application_server_key(self) -> str:
        return self.provider.application_server_key

    def send(self, *, target: str, push_id: str) -> None:
        self.targets.append(target)
        subscription = json.loads(target)
        token = subscription["endpoint"].rsplit("/", 1)[1]
        subscription["endpoint"] = f"{self.base}/wp/{token}"
        self.provider.send(target=json.dumps(subscription), push_id=push_id)
