"""The wire format of docs/mobile-key-protocol.md as the server verifies it (R-KEY-4):
request signatures, push signatures, signed answers, and the offline OCRA response
(R-KEY-5, suite OCRA-1:HOTP-SHA256-8:QN06)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.domain import otp
from securelogin_key import app as key
from securelogin_key.errors import PushSignatureInvalid, UsageError
from securelogin_key.vault import Sealing, UserKey, Vault, VaultFile
from securelogin_key.wire import (
    OCRA_SUITE,
    canonical_json,
    load_public_key,
    new_private_key,
    private_key_to_der,
    public_key_b64,
    push_answer,
    request_headers,
    sign,
    unb64url,
    verify_push,
)

SECRET32 = bytes.fromhex("3132333435363738393031323334353637383930313233343536373839303132")


def server_verifies(public_key: str, signature: str, message: bytes) -> None:
    """What the server does: DER SPKI + DER ECDSA, both base64url, SHA-256."""
    load_public_key(public_key).verify(unb64url(signature), message, ec.ECDSA(hashes.SHA256()))


def a_push(server_key: ec.EllipticCurvePrivateKey, **extra: Any) -> dict[str, Any]:
    push: dict[str, Any] = {
        "push_id": "p-1",
        "username": "alice",
        "purpose": "withdrawal",
        "who": "alice",
        "where": {"ip": "203.0.113.7", "platform": "portal"},
        "amount": "1234.56",
        "destination": "Chase ••••1234",
        "choices": ["17", "42", "88"],
        "created_at": "2026-11-25T15:00:00Z",
        "expires_at": "2026-11-25T15:03:00Z",
        **extra,
    }
    return push | {"signature": sign(server_key, canonical_json(push))}


def test_canonical_json_sorts_keys_without_spaces_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()


def test_R_KEY_4_a_signed_request_is_what_the_server_accepts() -> None:
    key = new_private_key()
    body = canonical_json({"username": "bob"})
    headers = request_headers(
        key, app_id="app-1", method="post", path_with_query="/api/v1/key/apps/app-1/users",
        timestamp=1764082800, body=body,
    )  # fmt: skip
    assert headers["X-SL-App"] == "app-1" and headers["X-SL-Time"] == "1764082800"
    expected = (
        "POST\n/api/v1/key/apps/app-1/users\n1764082800\n" + hashlib.sha256(body).hexdigest()
    ).encode()
    server_verifies(public_key_b64(key), headers["X-SL-Signature"], expected)
    with pytest.raises(InvalidSignature):
        server_verifies(public_key_b64(key), headers["X-SL-Signature"], expected + b"x")


def test_R_KEY_4_an_empty_body_signs_the_hash_of_nothing() -> None:
    key = new_private_key()
    headers = request_headers(
        key, app_id="a", method="GET", path_with_query="/api/v1/key/apps/a/pushes?wait=5",
        timestamp=7, body=b"",
    )  # fmt: skip
    message = f"GET\n/api/v1/key/apps/a/pushes?wait=5\n7\n{hashlib.sha256(b'').hexdigest()}"
    server_verifies(public_key_b64(key), headers["X-SL-Signature"], message.encode())


def test_R_KEY_4_a_push_signed_by_the_server_is_accepted() -> None:
    server = new_private_key()
    verify_push(a_push(server), expected_server_key=public_key_b64(server))


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "9999.99"},
        {"destination": "Mallory ••••6666"},
        {"choices": ["11", "12", "13"]},
        {"signature": "AAAA"},
    ],
)
def test_R_KEY_4_a_push_the_server_did_not_sign_is_refused(change: dict[str, Any]) -> None:
    server = new_private_key()
    push = a_push(server) | change
    with pytest.raises(PushSignatureInvalid):
        verify_push(push, expected_server_key=public_key_b64(server))


def test_R_KEY_4_a_push_signed_by_another_key_is_refused() -> None:
    with pytest.raises(PushSignatureInvalid):
        verify_push(
            a_push(new_private_key()), expected_server_key=public_key_b64(new_private_key())
        )


def test_R_KEY_4_the_answer_signs_push_id_request_hash_decision_number_and_not_me() -> None:
    app_key, push = new_private_key(), a_push(new_private_key())
    body = push_answer(app_key, push, decision="approve", number="42", not_me=False)
    assert set(body) == {"decision", "number", "not_me", "signature"}
    request = hashlib.sha256(
        json.dumps(push, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    signed = {"push_id": "p-1", "request": request, "decision": "approve", "number": "42",
              "not_me": False}  # fmt: skip
    server_verifies(public_key_b64(app_key), body["signature"], canonical_json(signed))
    with pytest.raises(InvalidSignature):
        server_verifies(
            public_key_b64(app_key), body["signature"], canonical_json(signed | {"number": "17"})
        )


def ocra_by_hand(key: bytes, challenge: str) -> str:
    """RFC 6287 §5 for QN06 without counter, PIN, session or time: suite | 00 | Q."""
    question = format(int(challenge), "X").ljust(256, "0")
    message = OCRA_SUITE.encode() + b"\x00" + bytes.fromhex(question)
    mac = hmac.new(key, message, hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    return str((int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % 10**8).zfill(8)


@pytest.mark.parametrize("challenge", ["000000", "123456", "999999", "314159"])
def test_R_KEY_5_respond_computes_the_ocra_qn06_response_offline(
    tmp_path: Path, challenge: str
) -> None:
    vault = Vault(
        server="http://127.0.0.1:9", app_id="app", server_public_key="k",
        private_key_der=private_key_to_der(new_private_key()),
        users=(UserKey(username="alice", device_id="d", ocra_suite=OCRA_SUITE,
                       ocra_secret=SECRET32),),
    )  # fmt: skip
    VaultFile(tmp_path).save(vault, Sealing.fresh("2468"))
    ctx = key.Context(home=tmp_path, secret=lambda prompt: "2468", say=print)
    response = key.respond(ctx, challenge=challenge, username=None)
    assert response == otp.ocra(OCRA_SUITE, SECRET32, question=challenge)
    assert response == ocra_by_hand(SECRET32, challenge)
    assert len(response) == 8 and response.isdigit()
    with pytest.raises(UsageError):
        key.respond(ctx, challenge="12a456", username=None)
    with pytest.raises(UsageError):
        key.respond(ctx, challenge="1234567", username=None)


def test_R_KEY_4_the_servers_own_verifier_accepts_the_apps_signatures_and_vice_versa() -> None:
    """Cross-check with the server's code (adapters/security/ecdsa.py, domain/push.py)."""
    from securelogin.adapters.security.ecdsa import EcdsaPushCrypto
    from securelogin.domain import push as server_push

    server = EcdsaPushCrypto(bytes(range(32)))
    app_key = new_private_key()
    app_public = server.load_public_key(public_key_b64(app_key))
    body = canonical_json({"username": "bob", "password": "pw", "recovery_pin": "k3y!"})
    headers = request_headers(
        app_key, app_id="app-1", method="POST", path_with_query="/api/v1/key/apps/app-1/users",
        timestamp=1764082800, body=body,
    )  # fmt: skip
    expected = server_push.request_string(
        method="POST", path="/api/v1/key/apps/app-1/users", timestamp="1764082800", body=body
    )
    assert server.verify(app_public, headers["X-SL-Signature"], expected)

    unsigned = {k: v for k, v in a_push(new_private_key()).items() if k != "signature"}
    pushed = unsigned | {"signature": server.sign(server_push.canonical_json(unsigned))}
    verify_push(pushed, expected_server_key=server.server_public_key())
    answer = push_answer(app_key, pushed, decision="deny", number=None, not_me=True)
    payload = server_push.answer_payload(
        push_id="p-1", request=server_push.request_digest(pushed), decision="deny",
        number=None, not_me=True,
    )  # fmt: skip
    assert server.verify(app_public, answer["signature"], payload)
