"""The soft mobile key end to end (SPEC §4, R-KEY-1..5; §10.1): real ``securelogin key``
processes on loopback, secrets on stdin, talking to the real app on a real HTTP server
(uvicorn in a thread of the test process: starting ``serve`` in a process of its own for
each test was a quarter of this file's CPU, and ``serve`` itself is tested in
test_serve.py); SMS activation codes read from the development outbox
(``admin outbox --json``)."""

from __future__ import annotations

import contextlib
import html
import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from securelogin.bootstrap import bootstrap
from securelogin.entrypoints.api.app import create_app
from securelogin_key import app as key
from securelogin_key.client import KeyClient
from securelogin_key.errors import VaultTampered
from securelogin_key.vault import Sealing, VaultFile
from tests.conftest import make_settings
from tests.e2e.cli import SECURELOGIN, invoke_cli, run_cli
from tests.e2e.servers import serve

PASSWORD = "Wonderland-2026"
APP_PIN = "2468"
RECOVERY_PIN = "k3y!"
PHONE = "+15551230001"
BROKERAGE = {
    "entities": [
        {"id": "E-1", "kind": "individual", "name": "Alice Chen",
         "identification": {"date_of_birth": "1980-01-02", "citizenship": "US",
                            "residence": "US", "document_type": "passport",
                            "document_number": "X1234567"}},
    ],
    "accounts": [{"id": "U1000001", "entity": "E-1", "cash": "2500000.00"}],
    "users": [
        {"username": "alice", "entity": "E-1", "password": PASSWORD, "phone": PHONE,
         "grants": [{"account": "U1000001", "rights": ["trade", "withdraw",
                                                       "security_settings"]}],
         "devices": [{"kind": "sms", "phone": PHONE}]},
        {"username": "bob", "entity": "E-1", "password": PASSWORD, "phone": "+15551230002",
         "grants": [{"account": "U1000001", "rights": ["trade"]}],
         "devices": [{"kind": "sms", "phone": "+15551230002"}]},
    ],
}  # fmt: skip


@dataclass
class Deployment:
    db: str
    env: dict[str, str]
    workdir: Path
    base: str = ""
    running: contextlib.ExitStack | None = None

    def start(self) -> None:
        """The app on a free port (a new one after each stop), on the deployment's
        database, as ``serve`` wires it."""
        self.running = contextlib.ExitStack()
        services = bootstrap(make_settings(self.db))
        self.running.callback(services.database.close)
        port = self.running.enter_context(serve(create_app(services)))
        self.base = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.running is not None:
            self.running.close()
            self.running = None

    def outbox_code(self, phone: str) -> str:
        result = invoke_cli(
            "admin", "outbox", "--json", "--to", phone, "--database-url", self.db, env=self.env
        )
        assert result.returncode == 0, result.stderr
        texts = [json.loads(line)["text"] for line in result.stdout.splitlines()]
        codes = re.findall(r"\b(\d{6})\b", texts[-1])
        assert codes, texts
        return str(codes[-1])

    def login(self, username: str = "alice") -> dict[str, Any]:
        body = {"username": username, "password": PASSWORD, "platform": "portal"}
        started = httpx.post(f"{self.base}/api/v1/logins", json=body, timeout=60)
        assert started.status_code == 201, started.text
        return dict(started.json())

    def login_status(self, login_id: str, wait: int = 0) -> str:
        answer = httpx.get(f"{self.base}/api/v1/logins/{login_id}?wait={wait}", timeout=40)
        return str(answer.json()["status"])


@dataclass
class KeyApp:
    """One phone: a ``--home`` folder and the real ``securelogin key`` command."""

    home: Path
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str = "", timeout: float = 90
    ) -> subprocess.CompletedProcess[str]:
        return run_cli("key", "--home", str(self.home), *args, env=self.env, stdin=stdin,
                       timeout=timeout)  # fmt: skip

    def activate(self, dep: Deployment, username: str = "alice", phone: str = PHONE) -> str:
        """Password → SMS code from the outbox → app PIN → recovery PIN, interactively."""
        proc = subprocess.Popen(
            [SECURELOGIN, "key", "--home", str(self.home), "activate", "--server", dep.base,
             "--username", username],
            env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdin and proc.stderr
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.flush()
        sent = proc.stderr.readline()
        if "sent to" not in sent:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(sent + err)
        code = dep.outbox_code(phone)
        out, err = proc.communicate(f"{code}\n{APP_PIN}\n{RECOVERY_PIN}\n", timeout=60)
        assert proc.returncode == 0, err
        return out

    def approve(self, *args: str, timeout: int = 20) -> subprocess.CompletedProcess[str]:
        return self.run("approve", *args, "--timeout", str(timeout), stdin=f"{APP_PIN}\n")

    def respond(self, challenge: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("respond", challenge, *args, stdin=f"{APP_PIN}\n")

    def context(self) -> key.Context:
        return key.Context(home=self.home, secret=lambda _: APP_PIN, say=lambda _: None)

    def pending_choices(self, username: str) -> list[str]:
        """Peek at the pull channel as the app would (the test reads the choices)."""
        vault, _ = key.unlock(self.context(), APP_PIN)
        client = KeyClient(vault.server, signer=(vault.app_id, vault.private_key))
        try:
            pushes = [p for p in client.pushes(vault.app_id, wait=10) if p["username"] == username]
        finally:
            client.close()
        return list(pushes[-1]["choices"])


BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """SQLite unless a test asks for PostgreSQL too (``BOTH_DATABASES``)."""
    kind = getattr(request, "param", "sqlite")
    return str(request.getfixturevalue("pg_url" if kind == "postgres" else "sqlite_url"))


@pytest.fixture
def deployment(database: str, cli_env: dict[str, str], tmp_path: Path) -> Iterator[Deployment]:
    source = tmp_path / "brokerage.yaml"
    source.write_text(yaml.safe_dump(BROKERAGE, allow_unicode=True))
    imported = invoke_cli("admin", "import", str(source), "--database-url", database, env=cli_env)
    assert imported.returncode == 0, imported.stderr
    dep = Deployment(db=database, env=cli_env, workdir=tmp_path)
    dep.start()
    try:
        yield dep
    finally:
        dep.stop()


@pytest.fixture
def phone(tmp_path: Path, cli_env: dict[str, str]) -> KeyApp:
    return KeyApp(tmp_path / "phone-1", cli_env)


@pytest.fixture
def alice_key(deployment: Deployment, phone: KeyApp) -> KeyApp:
    phone.activate(deployment)
    return phone


def push_number(login: dict[str, Any]) -> str:
    prompt = login["factor"]["prompt"]
    assert login["factor"]["kind"] == "mobile_key" and prompt["type"] == "push", login
    return str(prompt["number"])


@BOTH_DATABASES
def test_R_KEY_1_activation_via_sms_outbox(deployment: Deployment, phone: KeyApp) -> None:
    out = phone.activate(deployment)
    assert out.startswith("activated alice (device ")
    status = phone.run("status")
    assert status.returncode == 0 and f"server: {deployment.base}" in status.stdout
    assert "user: alice device " in status.stdout
    online = phone.run("status", "--online", stdin=f"{APP_PIN}\n")
    assert online.returncode == 0 and online.stdout.rstrip().endswith("active"), online
    assert deployment.login()["factor"]["kind"] == "mobile_key"
    # issue 12 §6: the file alone does not open, not even with the right PIN
    copy = VaultFile(phone.home)
    with pytest.raises(VaultTampered):
        copy.open(Sealing(keys=copy.pin_keys(APP_PIN), share=bytes(32), token=copy.unlock_token()))
    vault, sealing = key.unlock(phone.context(), APP_PIN)  # the server's share opens it
    assert vault.usernames == ("alice",) and copy.open(sealing) == vault


@BOTH_DATABASES
def test_R_KEY_4_push_login_approved_with_the_right_number(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    login = deployment.login()
    approved = alice_key.approve("--number", push_number(login))
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("approved: login by alice from ")
    assert deployment.login_status(login["login_id"], wait=10) == "authenticated"


def test_R_KEY_4_wrong_number_is_refused(deployment: Deployment, alice_key: KeyApp) -> None:
    login = deployment.login()
    number = push_number(login)
    wrong = next(n for n in alice_key.pending_choices("alice") if n != number)
    refused = alice_key.approve("--number", wrong)
    assert refused.returncode == 1, refused
    assert "not the number on the login screen" in refused.stderr
    assert deployment.login_status(login["login_id"]) != "authenticated"


def test_R_KEY_4_a_number_not_offered_sends_a_denial(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    login = deployment.login()
    offered = alice_key.pending_choices("alice")
    absent = next(f"{n:02d}" for n in range(10, 100) if f"{n:02d}" not in offered)
    refused = alice_key.approve("--number", absent)
    assert refused.returncode == 1 and "not among the numbers" in refused.stderr
    assert deployment.login_status(login["login_id"]) != "authenticated"
    assert alice_key.approve("--number", push_number(login), timeout=1).returncode == 1


def test_R_KEY_4_not_me_mutes_pushes_and_the_next_login_gets_a_challenge(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    login = deployment.login()
    push_number(login)
    denied = alice_key.approve("--not-me")
    assert denied.returncode == 0 and denied.stdout.startswith("denied: login by alice")
    assert deployment.login_status(login["login_id"]) == "denied"
    again = deployment.login()
    assert again["factor"]["prompt"]["type"] == "challenge", again


def test_R_KEY_5_fallback_challenge_answered_while_the_key_has_no_network(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    login = deployment.login()
    push_number(login)
    fallback = httpx.post(f"{deployment.base}/api/v1/logins/{login['login_id']}/fallback")
    assert fallback.status_code == 200, fallback.text
    challenge = fallback.json()["prompt"]["challenge"]
    assert re.fullmatch(r"\d{6}", challenge)
    deployment.stop()  # the vault's server is gone: any network use would fail (exit 3)
    assert alice_key.approve("--number", "42", timeout=1).returncode == 3
    response = alice_key.respond(challenge)
    assert response.returncode == 0, response.stderr
    assert re.fullmatch(r"\d{8}\n", response.stdout)
    deployment.start()  # the same database behind a new process and port
    answer = httpx.post(
        f"{deployment.base}/api/v1/logins/{login['login_id']}/answer",
        json={"response": response.stdout.strip()},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["session"]["tier"]["device_kind"] == "mobile_key"


def test_R_KEY_3_a_second_username_added_with_the_recovery_pin(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    wrong = alice_key.run("add-user", "--username", "bob",
                          stdin=f"{PASSWORD}\nnot-it\n{APP_PIN}\n")  # fmt: skip
    assert wrong.returncode == 1 and "invalid_credentials" in wrong.stderr
    added = alice_key.run("add-user", "--username", "bob",
                          stdin=f"{PASSWORD}\n{RECOVERY_PIN}\n{APP_PIN}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    login = deployment.login("bob")
    approved = alice_key.approve("--number", push_number(login), "--username", "bob")
    assert approved.returncode == 0, approved.stderr
    assert "login by bob" in approved.stdout
    assert deployment.login_status(login["login_id"], wait=10) == "authenticated"
    status = alice_key.run("status")
    assert "user: alice" in status.stdout and "user: bob" in status.stdout


def test_R_KEY_3_moving_to_a_new_phone_disables_the_old_app(
    deployment: Deployment, alice_key: KeyApp, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    new_phone = KeyApp(tmp_path / "phone-2", cli_env)
    new_phone.activate(deployment)
    old = alice_key.run("status", "--online", stdin=f"{APP_PIN}\n")
    assert old.returncode == 1 and "deactivated" in old.stderr, old
    assert "key_signature_invalid" in old.stderr
    login = deployment.login()
    number = push_number(login)
    stale = alice_key.approve("--number", number, timeout=2)
    assert stale.returncode == 1 and "deactivated" in stale.stderr, stale
    approved = new_phone.approve("--number", number)
    assert approved.returncode == 0, approved.stderr
    assert deployment.login_status(login["login_id"], wait=10) == "authenticated"


def test_R_KEY_4_a_withdrawal_push_shows_amount_and_destination(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    login = deployment.login()
    challenge = httpx.post(f"{deployment.base}/api/v1/logins/{login['login_id']}/fallback")
    response = alice_key.respond(challenge.json()["prompt"]["challenge"]).stdout.strip()
    session = httpx.post(
        f"{deployment.base}/api/v1/logins/{login['login_id']}/answer", json={"response": response}
    ).json()["session"]
    started = httpx.post(
        f"{deployment.base}/api/v1/withdrawals",
        json={"account": "U1000001", "amount": "1234.56", "destination": "Chase 1234"},
        headers={"Authorization": f"Bearer {session['token']}",
                 "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert started.status_code == 201, started.text
    prompt = started.json()["factor"]["prompt"]
    assert prompt["type"] == "push", prompt
    approved = alice_key.approve("--number", prompt["number"])
    assert approved.returncode == 0, approved.stderr
    assert "withdrawal of USD 1234.56 to Chase" in approved.stdout


def test_R_KEY_1_activation_from_the_portals_qr_code(deployment: Deployment, phone: KeyApp) -> None:
    login = deployment.login("bob")
    assert login["factor"]["prompt"]["type"] == "sms", login
    code = deployment.outbox_code("+15551230002")
    session = httpx.post(
        f"{deployment.base}/api/v1/logins/{login['login_id']}/answer", json={"response": code}
    ).json()["session"]
    page = httpx.post(
        f"{deployment.base}/portal/settings/mobile-key",
        data={"csrf_token": "t0ken"},
        cookies={"sl_session": session["token"], "sl_csrf": "t0ken"},
    )
    assert page.status_code == 200, page.text
    found = re.search(r"securelogin-key://activate\?[^\"<\s]+", page.text)
    assert found, page.text
    link = html.unescape(found.group(0))
    activated = phone.run("activate", "--link", link, stdin=f"{APP_PIN}\n{RECOVERY_PIN}\n")
    assert activated.returncode == 0, activated.stderr
    assert activated.stdout.startswith("activated bob ")
    again = phone.run("activate", "--link", link, stdin=f"{APP_PIN}\n{RECOVERY_PIN}\n")
    assert again.returncode == 1  # one app per --home; the session is single-use anyway
    bob = deployment.login("bob")
    approved = phone.approve("--number", push_number(bob))
    assert approved.returncode == 0, approved.stderr
    assert deployment.login_status(bob["login_id"], wait=10) == "authenticated"


def test_R_KEY_4_listen_shows_the_request_and_approves_the_picked_number(
    deployment: Deployment, alice_key: KeyApp
) -> None:
    proc = subprocess.Popen(
        [SECURELOGIN, "key", "--home", str(alice_key.home), "listen", "--count", "1",
         "--timeout", "60"],
        env=alice_key.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin and proc.stderr
    try:
        proc.stdin.write(f"{APP_PIN}\n")
        proc.stdin.flush()
        login = deployment.login()
        number = push_number(login)
        shown = proc.stderr.readline()
        assert shown.startswith("login by alice from ") and number in shown.split("numbers:")[1]
        _out, err = proc.communicate(f"{number}\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "approved: login by alice" in err and "answered 1 request(s)" in err
    assert deployment.login_status(login["login_id"], wait=10) == "authenticated"
