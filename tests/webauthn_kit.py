"""A software WebAuthn authenticator for in-process tests: it makes the JSON that
``navigator.credentials.create()``/``get()`` give a page (ES256, attestation ``none``),
with every knob a negative test needs (origin, RP ID, UV flag, sign count).  The browser
tests use Chromium's virtual authenticator instead."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.domain.access import Platform
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.login import login, passkeys
from tests.devices import KINDS, PASSWORD, Brokerage, KindSetup

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    count: int = 0
    user_handle: bytes = b""

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(
        self,
        options: dict[str, object],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        uv: bool = True,
    ) -> str:
        """The JSON of a new credential for these creation options."""
        rp = rp_id or str(options["rp"]["id"])  # type: ignore[index]
        self.user_handle = unb64url(str(options["user"]["id"]))  # type: ignore[index]
        client = json.dumps(
            {"type": "webauthn.create", "challenge": options["challenge"], "origin": origin}
        ).encode()
        flags = UP | AT | (UV if uv else 0)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([flags])
            + self.count.to_bytes(4, "big")
            + bytes(16)
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def get(
        self,
        challenge: str,
        *,
        origin: str = ORIGIN,
        rp_id: str = RP_ID,
        uv: bool = True,
        count: int | None = None,
    ) -> str:
        """The JSON of an assertion over ``challenge`` (base64url); the count goes up by
        one unless ``count`` says what to send."""
        self.count = self.count + 1 if count is None else count
        client = json.dumps(
            {"type": "webauthn.get", "challenge": challenge, "origin": origin}
        ).encode()
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | (UV if uv else 0)])
            + self.count.to_bytes(4, "big")
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )


def passkey_holder(services: Services, username: str = "holder") -> KindSetup:
    """A user holding an SMS device and a passkey registered after an SMS login (the
    passkey is then the strongest device), as a :class:`KindSetup` of the contract suite
    (tests/contract/test_device_kinds.py): its answer is this authenticator's assertion."""
    Brokerage().user(username, KINDS["sms"].device).load(services)
    started = login.start_login(
        services, username=username, password=PASSWORD, platform=Platform.PORTAL
    )
    assert started.factor is not None
    code = KINDS["sms"].answer(started.factor.prompt.as_json(), services.clock.now(), services)
    current = sessions.authenticate(
        services, login.answer_login(services, started.login_id, code).token
    )
    key = SoftAuthenticator()
    options = passkeys.start_registration(services, current)
    passkeys.finish_registration(
        services,
        current,
        registration_id=options.registration_id,
        credential=key.create(dict(options.options)),
    )
    return KindSetup(
        kind="passkey",
        device={},
        answer=lambda prompt, at, _services: key.get(str(prompt["challenge"])),
        rank=2,
        prompt_type="passkey",
    )
