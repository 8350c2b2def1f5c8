"""``securelogin key`` against an in-memory server that speaks docs/mobile-key-protocol.md
and verifies every signature the way the real server must (httpx.MockTransport, no
network): the SPEC §10.1 order of secrets on stdin, number matching (R-KEY-4), exit codes."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from securelogin.domain import otp
from securelogin_key import app as key_module
from securelogin_key.cli import key_app
from securelogin_key.client import KeyClient
from securelogin_key.errors import UsageError
from securelogin_key.vault import Sealing, VaultFile
from securelogin_key.wire import (
    OCRA_SUITE,
    b64url,
    canonical_json,
    load_public_key,
    new_private_key,
    public_key_b64,
    sign,
    unb64url,
)
from tests.key_vault_kit import write_format_1

SERVER = "http://keys.test"
PASSWORD = "Wonderland-2026"
CODE = "123456"
PIN_FIELDS = {"pin_verifier", "server_share", "unlock_token"}


def verified(public_key: str, signature: str, message: bytes) -> bool:
    try:
        load_public_key(public_key).verify(unb64url(signature), message, ec.ECDSA(hashes.SHA256()))
    except Exception:  # any failure is a refusal
        return False
    return True


@dataclass
class FakeKeyServer:
    """The protocol's server side, small: one user database, apps, pushes."""

    server_key: ec.EllipticCurvePrivateKey = field(default_factory=new_private_key)
    passwords: dict[str, str] = field(default_factory=lambda: {"alice": PASSWORD, "bob": PASSWORD})
    apps: dict[str, str] = field(default_factory=dict)  # app_id -> public key
    users: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # username -> app, secret
    pushes: dict[str, dict[str, Any]] = field(default_factory=dict)
    screen: dict[str, str] = field(default_factory=dict)  # push_id -> number on screen
    answers: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    pins: dict[str, tuple[str, str]] = field(default_factory=dict)  # app -> verifier, share
    pin_failures: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # app -> unlock token

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def push(self, username: str, *, number: str = "42", purpose: str = "login") -> str:
        push_id = secrets.token_hex(4)
        push: dict[str, Any] = {
            "push_id": push_id, "username": username, "purpose": purpose, "who": username,
            "where": {"ip": "203.0.113.7", "platform": "portal"},
            "amount": "1234.56" if purpose == "withdrawal" else None,
            "destination": "Chase ••••1234" if purpose == "withdrawal" else None,
            "choices": [number, "17", "88"], "created_at": "2026-11-25T15:00:00Z",
            "expires_at": "2026-11-25T15:03:00Z",
        }  # fmt: skip
        self.pushes[push_id] = push | {"signature": sign(self.server_key, canonical_json(push))}
        self.screen[push_id] = number
        return push_id

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.removeprefix("/api/v1/key/").split("/")
        body = json.loads(request.content) if request.content else {}
        self.bodies.append(body)
        if parts[0] == "activations":
            return self.activation(parts, body)
        if parts[0] == "apps" and parts[2:] in (["unlock"], ["pin", "reset"]):
            return self.unlock(parts[1], body)
        app_id = self.check_signature(request)
        if app_id is None:
            return problem(401, "key_signature_invalid")
        if parts[0] == "apps" and parts[2:] == ["pushes"]:
            mine = [p for p in self.pushes.values() if self.users[p["username"]][0] == app_id]
            return httpx.Response(200, json={"pushes": mine})
        if parts[0] == "apps" and parts[2:] == ["pin"]:
            self.pins[app_id] = (body["pin_verifier"], body["server_share"])
            self.tokens[app_id] = body["unlock_token"]
            self.pin_failures[app_id] = 0
            return httpx.Response(204)
        if parts[0] == "apps" and parts[2:] == ["users"]:
            if (
                self.passwords.get(body["username"]) != body["password"]
                or body["recovery_pin"] != "rec0!"
            ):
                return problem(401, "invalid_credentials")
            return httpx.Response(201, json=self.enrol(body["username"], app_id))
        if parts[0] == "apps":
            users = [{"username": u, "device_id": f"dev-{u}", "state": "active"}
                     for u, (a, _) in self.users.items() if a == app_id]  # fmt: skip
            return httpx.Response(200, json={"app_id": app_id, "users": users})
        return self.answer(parts[1], body, app_id)

    def activation(self, parts: list[str], body: dict[str, Any]) -> httpx.Response:
        if len(parts) == 1:
            if self.passwords.get(body["username"]) != body["password"]:
                return problem(401, "invalid_credentials")
            phones = [{"phone_id": "ph-1", "masked": "+1•••89", "preselected": True}]
            return httpx.Response(201, json={"activation_id": body["username"], "phones": phones})
        if parts[2] == "code":
            return httpx.Response(200, json={"sent_to": "+1•••89"})
        if "code" in body and body["code"] != CODE:  # no code: the portal's QR session
            return problem(401, "login_failed")
        app_id = f"app-{secrets.token_hex(3)}"
        self.apps[app_id] = body["public_key"]
        self.pins[app_id] = (body["pin_verifier"], body["server_share"])
        self.tokens[app_id] = body["unlock_token"]
        return httpx.Response(201, json={"app_id": app_id, **self.enrol(parts[1], app_id)} | {
            "server_public_key": public_key_b64(self.server_key)})  # fmt: skip

    def unlock(self, app_id: str, body: dict[str, Any]) -> httpx.Response:
        """The server-assisted app PIN (issue 12 §6): 10 wrong proofs lock it."""
        if body["unlock_token"] != self.tokens.get(app_id):
            return problem(401, "key_signature_invalid")
        failures = self.pin_failures.get(app_id, 0)
        if "recovery_pin" in body:
            if body["recovery_pin"] != "rec0!":
                return problem(401, "invalid_credentials")
            self.pin_failures[app_id] = 0
            return httpx.Response(204)
        if failures >= 10:
            return problem(423, "app_pin_locked")
        verifier, share = self.pins[app_id]
        if body["proof"] != verifier:
            self.pin_failures[app_id] = failures + 1
            return problem(
                423 if failures == 9 else 401,
                "app_pin_locked" if failures == 9 else "app_pin_wrong",
            )
        self.pin_failures[app_id] = 0
        return httpx.Response(200, json={"server_share": share})

    def enrol(self, username: str, app_id: str) -> dict[str, Any]:
        secret = secrets.token_bytes(32)
        self.users[username] = (app_id, secret)
        ocra = {"suite": OCRA_SUITE, "secret": b64url(secret)}
        return {"device_id": f"dev-{username}", "username": username, "ocra": ocra}

    def check_signature(self, request: httpx.Request) -> str | None:
        app_id = request.headers.get("X-SL-App", "")
        path = request.url.raw_path.decode()
        message = (
            f"{request.method}\n{path}\n{request.headers.get('X-SL-Time')}\n"
            f"{hashlib.sha256(request.content).hexdigest()}"
        ).encode()
        key = self.apps.get(app_id)
        signature = request.headers.get("X-SL-Signature", "")
        return app_id if key and verified(key, signature, message) else None

    def answer(self, push_id: str, body: dict[str, Any], app_id: str) -> httpx.Response:
        push = self.pushes.pop(push_id, None)
        if push is None:
            return problem(409, "push_closed")
        signed = {"push_id": push_id, "request": hashlib.sha256(canonical_json(push)).hexdigest(),
                  "decision": body["decision"], "number": body["number"],
                  "not_me": body["not_me"]}  # fmt: skip
        assert verified(self.apps[app_id], body["signature"], canonical_json(signed))
        self.answers.append(body)
        if body["decision"] == "approve" and body["number"] != self.screen[push_id]:
            return problem(422, "number_mismatch")
        status = {"approve": "approved", "deny": "denied"}[body["decision"]]
        return httpx.Response(200, json={"status": status})


def problem(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": code.replace("_", " ")})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeKeyServer:
    fake = FakeKeyServer()

    class Routed(KeyClient):
        def __init__(self, url: str, **kwargs: Any) -> None:
            super().__init__(url, **(kwargs | {"transport": fake.transport}))

    monkeypatch.setattr(key_module, "KeyClient", Routed)
    return fake


def key(home: Path, *args: str, stdin: str = "") -> Any:
    return CliRunner().invoke(key_app, ["--home", str(home), *args], input=stdin)


def activated(home: Path, username: str = "alice") -> Any:
    stdin = f"{PASSWORD}\n{CODE}\n2468\nrec0!\n"
    return key(home, "activate", "--server", SERVER, "--username", username, stdin=stdin)


def test_R_KEY_1_activate_reads_password_code_app_pin_recovery_pin_in_that_order(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    result = activated(tmp_path)
    assert result.exit_code == 0, result.output
    assert "activated alice" in result.stdout
    start, code, complete = server.bodies
    assert start == {"username": "alice", "password": PASSWORD}
    assert code == {"phone_id": "ph-1"}
    assert complete["code"] == CODE and complete["recovery_pin"] == "rec0!"
    assert load_public_key(complete["public_key"]).curve.name == "secp256r1"
    status = key(tmp_path, "status")
    assert status.exit_code == 0 and "user: alice device dev-alice" in status.stdout


def test_R_KEY_1_a_new_number_is_sent_with_its_country(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    stdin = f"{PASSWORD}\n{CODE}\n2468\nrec0!\n"
    result = key(tmp_path, "activate", "--server", SERVER, "--username", "alice",
                 "--phone", "+4915112345678", "--country", "de", stdin=stdin)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.bodies[1] == {"phone": "+4915112345678", "country": "DE"}


def test_R_KEY_1_a_bad_app_pin_is_refused_before_anything_is_activated(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    stdin = f"{PASSWORD}\n{CODE}\n12\nrec0!\n"
    result = key(tmp_path, "activate", "--server", SERVER, "--username", "alice", stdin=stdin)
    assert result.exit_code == 1 and "4 to 6 digits" in result.stderr
    assert server.apps == {} and not (tmp_path / "vault.json").exists()


def test_R_KEY_1_a_wrong_activation_code_is_refused_with_the_servers_code(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    result = key(tmp_path, "activate", "--server", SERVER, "--username", "alice",
                 stdin=f"{PASSWORD}\n000000\n2468\nrec0!\n")  # fmt: skip
    assert result.exit_code == 1 and "login_failed" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("securelogin key: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "vault.json").exists()


def test_missing_secrets_on_stdin_are_a_usage_error(server: FakeKeyServer, tmp_path: Path) -> None:
    result = key(tmp_path, "activate", "--server", SERVER, "--username", "alice",
                 stdin=f"{PASSWORD}\n")  # fmt: skip
    assert result.exit_code == 2 and "SMS activation code" in result.stderr


def test_R_KEY_4_approve_with_the_right_number_is_signed_and_approved(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    server.push("alice", number="42", purpose="withdrawal")
    result = key(tmp_path, "approve", "--number", "42", "--timeout", "1", stdin="2468\n")
    assert result.exit_code == 0, result.output
    assert "approved: withdrawal of USD 1234.56 to Chase ••••1234 by alice" in result.stdout
    assert "203.0.113.7 (portal)" in result.stdout
    assert server.answers[-1]["decision"] == "approve" and server.answers[-1]["number"] == "42"


def test_R_KEY_4_a_number_not_offered_sends_a_denial_and_fails(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    server.push("alice", number="42")
    result = key(tmp_path, "approve", "--number", "55", "--timeout", "1", stdin="2468\n")
    assert result.exit_code == 1 and "not among the numbers" in result.stderr
    assert server.answers[-1] == server.answers[-1] | {"decision": "deny", "number": None}


def test_R_KEY_4_number_mismatch_from_the_server_fails(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    server.push("alice", number="42")
    result = key(tmp_path, "approve", "--number", "17", "--timeout", "1", stdin="2468\n")
    assert result.exit_code == 1 and "not the number on the login screen" in result.stderr


def test_R_KEY_4_not_me_is_a_denial_marked_not_me(server: FakeKeyServer, tmp_path: Path) -> None:
    activated(tmp_path)
    server.push("alice")
    result = key(tmp_path, "approve", "--not-me", "--timeout", "1", stdin="2468\n")
    assert result.exit_code == 0, result.output
    assert server.answers[-1]["decision"] == "deny" and server.answers[-1]["not_me"] is True


def test_R_KEY_4_a_push_with_a_forged_signature_is_never_answered(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    push_id = server.push("alice", number="42")
    server.pushes[push_id]["amount"] = "9999.00"
    result = key(tmp_path, "approve", "--number", "42", "--timeout", "1", stdin="2468\n")
    assert result.exit_code == 1 and "not signed by the server" in result.stderr
    assert server.answers == []


def test_R_KEY_4_approve_with_a_wrong_pin_sends_nothing(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    server.push("alice")
    before = (tmp_path / "vault.json").read_bytes()
    result = key(tmp_path, "approve", "--number", "42", "--timeout", "1", stdin="1111\n")
    assert result.exit_code == 1 and "wrong app PIN" in result.stderr
    assert server.answers == [] and (tmp_path / "vault.json").read_bytes() == before


def test_R_KEY_4_no_pending_push_within_the_timeout_fails(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    result = key(tmp_path, "approve", "--number", "42", "--timeout", "0", stdin="2468\n")
    assert result.exit_code == 1 and "no request is waiting" in result.stderr


def test_R_KEY_4_listen_shows_each_push_and_answers_as_told(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    server.push("alice", number="42")
    result = key(tmp_path, "listen", "--count", "1", "--timeout", "2", stdin="2468\n42\n")
    assert result.exit_code == 0, result.output
    assert "login by alice from 203.0.113.7" in result.stderr
    assert "approved: login" in result.stderr
    assert server.answers[-1]["number"] == "42"


def test_R_KEY_3_add_user_reads_password_recovery_pin_then_app_pin(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    result = key(tmp_path, "add-user", "--username", "bob", stdin=f"{PASSWORD}\nrec0!\n2468\n")
    assert result.exit_code == 0, result.output
    assert server.bodies[-1] == {"username": "bob", "password": PASSWORD, "recovery_pin": "rec0!"}
    respond = key(tmp_path, "respond", "123456", "--username", "bob", stdin="2468\n")
    assert respond.stdout == otp.ocra(OCRA_SUITE, server.users["bob"][1], question="123456") + "\n"
    both = key(tmp_path, "respond", "123456", stdin="2468\n")
    assert both.exit_code == 1 and "--username" in both.stderr
    online = key(tmp_path, "status", "--online", stdin="2468\n")
    assert "user: bob device dev-bob active" in online.stdout


def test_R_KEY_3_a_wrong_recovery_pin_is_refused_and_the_vault_is_unchanged(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    before = (tmp_path / "vault.json").read_bytes()
    result = key(tmp_path, "add-user", "--username", "bob", stdin=f"{PASSWORD}\nnope\n2468\n")
    assert result.exit_code == 1 and "invalid_credentials" in result.stderr
    assert (tmp_path / "vault.json").read_bytes() == before


def test_R_KEY_5_respond_prints_only_the_response_and_opens_no_socket(
    server: FakeKeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activated(tmp_path)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("respond touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(httpx.Client, "send", no_network)
    result = key(tmp_path, "respond", "654321", stdin="2468\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == otp.ocra(OCRA_SUITE, server.users["alice"][1], question="654321") + "\n"


def test_activate_twice_into_one_home_is_refused(server: FakeKeyServer, tmp_path: Path) -> None:
    activated(tmp_path)
    again = activated(tmp_path, "bob")
    assert again.exit_code == 1 and "add-user" in again.stderr


def test_an_unreachable_server_exits_3(tmp_path: Path) -> None:
    stdin = f"{PASSWORD}\n"
    result = key(tmp_path, "activate", "--server", "http://127.0.0.1:9", "--username", "alice",
                 stdin=stdin)  # fmt: skip
    assert result.exit_code == 3 and "cannot reach" in result.stderr


def test_a_malformed_server_url_or_number_is_a_usage_error(tmp_path: Path) -> None:
    assert key(tmp_path, "activate", "--server", "ftp://x", "--username", "a").exit_code == 2
    assert key(tmp_path, "approve", "--number", "4").exit_code == 2
    assert key(tmp_path, "respond", "12x").exit_code == 2
    no_country = key(tmp_path, "activate", "--server", SERVER, "--username", "a", "--phone", "+1")
    assert no_country.exit_code == 2 and "--country" in no_country.stderr


def test_R_KEY_1_the_portal_qr_link_gives_server_and_session() -> None:
    link = "securelogin-key://activate?server=http%3A%2F%2F127.0.0.1%3A8000&session=act_9"
    assert key_module.parse_link(link) == ("http://127.0.0.1:8000", "act_9")
    for bad in ("https://activate?server=x&session=y", "securelogin-key://activate?server=x"):
        with pytest.raises(UsageError):
            key_module.parse_link(bad)


def test_R_KEY_1_qr_activation_reads_app_pin_then_recovery_pin(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    link = f"securelogin-key://activate?server={SERVER}&session=alice"
    result = key(tmp_path, "activate", "--link", link, stdin="2468\nrec0!\n")
    assert result.exit_code == 0, result.output
    complete = server.bodies[-1]
    assert set(complete) == {"public_key", "recovery_pin"} | PIN_FIELDS
    assert complete["recovery_pin"] == "rec0!"


def test_issue12_6_a_wrong_app_pin_is_refused_by_the_server_and_changes_nothing(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    before = (tmp_path / "vault.json").read_bytes()
    attempts = [
        key(tmp_path, "add-user", "--username", "bob", stdin=f"{PASSWORD}\nrec0!\n9999\n"),
        key(tmp_path, "status", "--online", stdin="9999\n"),
        key(tmp_path, "listen", "--count", "1", stdin="9999\n"),
    ]
    for result in attempts:
        assert result.exit_code == 1 and "wrong app PIN" in result.stderr, result.output
        assert result.stdout == ""
    assert (tmp_path / "vault.json").read_bytes() == before
    # only the unlock calls reached the server, each counted there
    assert [set(b) for b in server.bodies[-3:]] == [{"proof", "unlock_token"}] * 3
    assert set(server.pin_failures.values()) == {3}


def test_issue12_6_R_KEY_5_respond_stays_offline_and_a_wrong_pin_gives_a_wrong_response(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    """No check value in the file (it would let a thief test PINs offline): a mistyped
    PIN yields a response the server refuses, counted as a second-factor failure."""
    activated(tmp_path)
    calls = len(server.bodies)
    right = key(tmp_path, "respond", "123456", stdin="2468\n")
    wrong = key(tmp_path, "respond", "123456", stdin="9999\n")
    assert right.exit_code == 0 and wrong.exit_code == 0
    assert right.stdout != wrong.stdout and len(wrong.stdout.strip()) == 8
    assert len(server.bodies) == calls  # nothing reached the server


def test_issue12_6_ten_wrong_pins_lock_the_key_and_R_KEY_2_reset_pin_re_enables_it(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    for _ in range(10):
        key(tmp_path, "status", "--online", stdin="9999\n")
    locked = key(tmp_path, "status", "--online", stdin="2468\n")
    assert locked.exit_code == 1 and "reset-pin" in locked.stderr
    assert key(tmp_path, "reset-pin", stdin="nope!\n").exit_code == 1
    reset = key(tmp_path, "reset-pin", stdin="rec0!\n")
    assert reset.exit_code == 0, reset.output
    assert key(tmp_path, "status", "--online", stdin="2468\n").exit_code == 0


def test_issue12_6_a_format_1_vault_is_upgraded_at_its_next_unlock(
    server: FakeKeyServer, tmp_path: Path
) -> None:
    activated(tmp_path)
    [(app_id, (_, share))] = server.pins.items()
    file = VaultFile(tmp_path)
    sealing = Sealing(keys=file.pin_keys("2468"), share=unb64url(share), token=file.unlock_token())
    vault = file.open(sealing)
    write_format_1(tmp_path, vault, "2468")
    del server.pins[app_id]  # as the server knows an app activated before 0009
    upgraded = key(tmp_path, "status", "--online", stdin="2468\n")
    assert upgraded.exit_code == 0 and "format 2" in upgraded.stderr, upgraded.output
    assert not file.needs_upgrade() and app_id in server.pins
    assert server.bodies[-2].keys() == PIN_FIELDS  # the signed PUT
    again = key(tmp_path, "status", "--online", stdin="2468\n")
    assert again.exit_code == 0 and server.bodies[-2].keys() == {"proof", "unlock_token"}


@pytest.mark.parametrize(
    ("purpose", "said"),
    [
        ("login", "login by alice from 203.0.113.7 (portal)"),
        ("withdrawal", "withdrawal of USD 5.00 to Chase by alice from 203.0.113.7 (portal)"),
        (
            "share",
            "sharing alice's security device with another username from 203.0.113.7 (portal)",
        ),
        ("settings", "security settings change by alice from 203.0.113.7 (portal)"),
        ("something_new", "request (something_new) by alice from 203.0.113.7 (portal)"),
    ],
)
def test_R_KEY_4_each_push_purpose_is_described_as_itself(purpose: str, said: str) -> None:
    """A share or settings push is never shown as a login (the person approves what it is)."""
    push = {
        "purpose": purpose,
        "who": "alice",
        "amount": "5.00",
        "destination": "Chase",
        "where": {"ip": "203.0.113.7", "platform": "portal"},
    }
    assert key_module.describe_push(push) == said
