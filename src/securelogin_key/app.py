"""What the soft mobile key does (SPEC §4, R-KEY-1..5): activate, add a username,
approve or deny a push with number matching, answer a challenge offline, show status.

Each function takes the secrets reader and the printer from its caller (the command
line), in the order SPEC §10.1 fixes, and raises ``KeyAppError`` on failure.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from securelogin.domain import otp
from securelogin_key.client import KeyClient
from securelogin_key.errors import (
    AlreadyActivated,
    NoPendingPush,
    NumberNotOffered,
    PinLocked,
    PushSignatureInvalid,
    Refused,
    ServerRefused,
    UsageError,
    WrongPin,
)
from securelogin_key.vault import Sealing, UserKey, Vault, VaultFile, check_app_pin
from securelogin_key.wire import (
    OCRA_SUITE,
    b64url,
    load_public_key,
    new_private_key,
    private_key_to_der,
    public_key_b64,
    push_answer,
    unb64url,
    verify_push,
)

MAX_WAIT = 60  # the pull channel's longest wait (protocol § Push)
IDLE_PAUSE = 1.0  # between pulls that returned only pushes this command will not answer


class Secrets(Protocol):
    def __call__(self, prompt: str) -> str: ...


Say = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Context:
    home: Path
    secret: Secrets
    say: Say  # informational lines (stderr)
    transport: httpx.BaseTransport | None = None

    @property
    def vault_file(self) -> VaultFile:
        return VaultFile(self.home)

    def client(self, vault: Vault | None = None, *, server: str | None = None) -> KeyClient:
        if vault is None:
            return KeyClient(server or "", transport=self.transport)
        signer = (vault.app_id, vault.private_key)
        return KeyClient(vault.server, signer=signer, transport=self.transport)


# -- activation (R-KEY-1, R-KEY-2) ---------------------------------------------------
def activate(
    ctx: Context, *, server: str, username: str, phone: str | None, country: str | None
) -> Vault:
    """Password → SMS code to a phone on record (or a new number) → app PIN → recovery PIN."""
    _refuse_existing(ctx)
    if phone and not country:
        raise UsageError("--phone needs --country CC (ISO 3166, e.g. DE)")
    client = ctx.client(server=server)
    try:
        password = ctx.secret("Password")
        started = client.start_activation(username.strip().lower(), password)
        activation_id = str(started["activation_id"])
        sent = client.send_code(activation_id, _phone_choice(started, phone, country))
        ctx.say(f"Activation code sent to {sent.get('sent_to', 'your phone')}")
        code = ctx.secret("SMS activation code").strip()
        return _complete(ctx, client, activation_id, {"code": code})
    finally:
        client.close()


def activate_session(ctx: Context, *, server: str, session: str) -> Vault:
    """The portal's QR variant: a one-time session id stands for password and SMS code."""
    _refuse_existing(ctx)
    client = ctx.client(server=server)
    try:
        return _complete(ctx, client, session.strip(), {})
    finally:
        client.close()


def parse_link(link: str) -> tuple[str, str]:
    """``securelogin-key://activate?server=URL&session=ID`` (the portal's QR code)."""
    parts = urlsplit(link.strip())
    query = parse_qs(parts.query)
    server, session = query.get("server", [""])[0], query.get("session", [""])[0]
    if parts.scheme != "securelogin-key" or parts.netloc != "activate" or not server:
        raise UsageError("the link is not a securelogin-key://activate QR code")
    if not session:
        raise UsageError("the link carries no session")
    return server, session


def _refuse_existing(ctx: Context) -> None:
    if ctx.vault_file.exists():
        raise AlreadyActivated(
            f"{ctx.home} already holds a mobile key; use 'add-user' or another --home"
        )


def _phone_choice(
    started: dict[str, Any], phone: str | None, country: str | None
) -> dict[str, str]:
    if phone:
        return {"phone": phone, "country": (country or "").upper()}
    phones = [p for p in started.get("phones") or [] if isinstance(p, dict)]
    chosen = next((p for p in phones if p.get("preselected")), phones[0] if phones else None)
    if chosen is None:
        raise Refused("no phone number on record; pass --phone NUMBER --country CC")
    return {"phone_id": str(chosen["phone_id"])}


def _complete(ctx: Context, client: KeyClient, activation_id: str, proof: dict[str, str]) -> Vault:
    pin = ctx.secret("App PIN (4-6 digits)")
    check_app_pin(pin)
    recovery_pin = ctx.secret("Recovery PIN")
    key = new_private_key()
    sealing = Sealing.fresh(pin)
    body = {**proof, "public_key": public_key_b64(key), "recovery_pin": recovery_pin}
    done = client.complete(activation_id, body | _pin_fields(sealing))
    try:
        load_public_key(str(done["server_public_key"]))
        vault = Vault(
            server=client.server,
            app_id=str(done["app_id"]),
            server_public_key=str(done["server_public_key"]),
            private_key_der=private_key_to_der(key),
            users=(_user_key(done),),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused(f"the server's activation answer is malformed: {exc}") from None
    with ctx.vault_file.locked():
        _refuse_existing(ctx)
        ctx.vault_file.save(vault, sealing)
    return vault


# -- the server-assisted app PIN (issue 12 §6) ---------------------------------------
def _pin_fields(sealing: Sealing) -> dict[str, str]:
    return {
        "pin_verifier": b64url(sealing.keys.proof),
        "server_share": b64url(sealing.share),
        "unlock_token": b64url(sealing.token),
    }


def unlock(ctx: Context, pin: str, *, locked: bool = False) -> tuple[Vault, Sealing]:
    """Open the vault: the PIN proof to the server, its share back, then decrypt.  A
    format 1 vault opens with the PIN alone once more and is re-sealed with a share."""
    file = ctx.vault_file
    if file.needs_upgrade():
        return _upgrade(ctx, pin, locked=locked)
    info = file.read_public()
    keys, token = file.pin_keys(pin), file.unlock_token()
    client = ctx.client(server=info.server)
    try:
        share = client.unlock(info.app_id, token, keys.proof)
    except ServerRefused as exc:
        if exc.code == "app_pin_wrong":
            raise WrongPin(exc.message) from None
        if exc.code == "app_pin_locked":
            raise PinLocked() from None
        raise
    finally:
        client.close()
    sealing = Sealing(keys=keys, share=share, token=token)
    return file.open(sealing), sealing


def _upgrade(ctx: Context, pin: str, *, locked: bool) -> tuple[Vault, Sealing]:
    with contextlib.nullcontext() if locked else ctx.vault_file.locked():
        vault = ctx.vault_file.open_legacy(pin)
        sealing = Sealing.fresh(pin)
        client = ctx.client(vault)
        try:
            client.set_pin(vault.app_id, _pin_fields(sealing))
        finally:
            client.close()
        ctx.vault_file.save(vault, sealing)
    ctx.say("the vault now opens only with the server's help (format 2)")
    return vault, sealing


def reset_pin(ctx: Context) -> None:
    """R-KEY-2: the recovery PIN re-enables an app PIN locked by 10 wrong tries."""
    info = ctx.vault_file.read_public()
    recovery_pin = ctx.secret("Recovery PIN")
    client = ctx.client(server=info.server)
    try:
        client.reset_pin(info.app_id, ctx.vault_file.unlock_token(), recovery_pin)
    finally:
        client.close()


def _user_key(answer: dict[str, Any]) -> UserKey:
    ocra = answer["ocra"]
    suite = str(ocra.get("suite") or OCRA_SUITE)
    otp.parse_ocra_suite(suite)
    return UserKey(
        username=str(answer["username"]),
        device_id=str(answer["device_id"]),
        ocra_suite=suite,
        ocra_secret=unb64url(str(ocra["secret"])),
    )


# -- several usernames (R-KEY-3) -----------------------------------------------------
def add_user(ctx: Context, *, username: str) -> UserKey:
    """Password and recovery PIN of the new username, then the app PIN to unlock."""
    password = ctx.secret("Password")
    recovery_pin = ctx.secret("Recovery PIN")
    pin = ctx.secret("App PIN")
    with ctx.vault_file.locked():
        vault, sealing = unlock(ctx, pin, locked=True)
        client = ctx.client(vault)
        try:
            body = {"username": username.strip().lower(), "password": password}
            answer = client.add_user(vault.app_id, body | {"recovery_pin": recovery_pin})
        finally:
            client.close()
        try:
            user = _user_key(answer)
        except (KeyError, TypeError, ValueError) as exc:
            raise Refused(f"the server's answer is malformed: {exc}") from None
        ctx.vault_file.save(vault.with_user(user), sealing)
    return user


# -- offline fallback (R-KEY-5) ------------------------------------------------------
def respond(ctx: Context, *, challenge: str, username: str | None) -> str:
    """The 8-digit OCRA response; touches no network at all."""
    challenge = challenge.strip()
    if not (challenge.isascii() and challenge.isdigit()):
        raise UsageError("the challenge is the number shown on the login screen")
    user = ctx.vault_file.offline_user(ctx.secret("App PIN"), username)
    if len(challenge) > otp.parse_ocra_suite(user.ocra_suite).question_length:
        raise UsageError(f"the challenge is too long: {challenge}")
    return otp.ocra(user.ocra_suite, user.ocra_secret, question=challenge)


# -- push (R-KEY-4) ------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Answered:
    push: dict[str, Any]
    decision: str
    status: str

    def describe(self) -> str:
        return f"{self.status}: {describe_push(self.push)}"


def describe_push(push: dict[str, Any]) -> str:
    """Who asks, from where, and for what: each purpose the server sends names itself
    (login, withdrawal X to Y, sharing the device, a security settings change); one this
    client does not know is never shown as a login."""
    where = push.get("where") or {}
    place = str(where.get("ip") or "unknown address")
    if where.get("platform"):
        place += f" ({where['platform']})"
    who = push.get("who") or push.get("username")
    purpose = push.get("purpose")
    if purpose == "withdrawal":
        what = f"withdrawal of USD {push.get('amount')} to {push.get('destination')} by {who}"
    elif purpose == "login":
        what = f"login by {who}"
    elif purpose == "share":
        what = f"sharing {who}'s security device with another username"
    elif purpose == "settings":
        what = f"security settings change by {who}"
    else:
        what = f"request ({purpose}) by {who}"
    return f"{what} from {place}"


def approve(
    ctx: Context,
    *,
    number: str | None,
    deny: bool,
    not_me: bool,
    username: str | None,
    timeout: float,
) -> Answered:
    """Wait for this app's push, then answer it; a number not offered is a denial."""
    deny = deny or not_me
    if number is not None and not (len(number) == 2 and number.isascii() and number.isdigit()):
        raise UsageError("--number is the 2-digit number shown on the login screen")
    if number is None and not deny:
        raise UsageError("pass --number NN to approve, or --deny")
    vault, _ = unlock(ctx, ctx.secret("App PIN"))
    wanted = vault.user(username).username if username else None
    client = ctx.client(vault)
    try:
        push = _wait_for_push(client, vault, wanted, number, timeout)
        if deny:
            return _answer(client, vault, push, decision="deny", number=None, not_me=not_me)
        if number not in push.get("choices", []):
            _answer(client, vault, push, decision="deny", number=None, not_me=False)
            raise NumberNotOffered(
                f"{number} is not among the numbers of this request "
                f"({describe_push(push)}); it was denied"
            )
        return _answer(client, vault, push, decision="approve", number=number, not_me=False)
    finally:
        client.close()


def _wait_for_push(
    client: KeyClient, vault: Vault, username: str | None, number: str | None, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        remaining = int(max(0, min(MAX_WAIT, deadline - time.monotonic())))
        pushes = client.pushes(vault.app_id, wait=remaining)
        for push in pushes:
            verify_push(push, expected_server_key=vault.server_public_key)
        mine = [p for p in pushes if username is None or p.get("username") == username]
        if mine:
            offering = [p for p in mine if number in p.get("choices", [])]
            return (offering or mine)[-1]
        if time.monotonic() >= deadline:
            raise NoPendingPush("no request is waiting for this app")
        if pushes:  # the channel answers at once while others' pushes are pending
            time.sleep(IDLE_PAUSE)


def _answer(
    client: KeyClient,
    vault: Vault,
    push: dict[str, Any],
    *,
    decision: str,
    number: str | None,
    not_me: bool,
) -> Answered:
    body = push_answer(vault.private_key, push, decision=decision, number=number, not_me=not_me)
    try:
        answer = client.answer_push(str(push["push_id"]), body)
    except ServerRefused as exc:
        if exc.code == "number_mismatch":
            raise Refused(
                f"{number} is not the number on the login screen; the request was denied"
            ) from None
        raise
    return Answered(push=push, decision=decision, status=str(answer.get("status", decision)))


Ask = Callable[[str], str | None]


def listen(ctx: Context, *, ask: Ask, username: str | None, count: int, timeout: float) -> int:
    """Show each push as it arrives and answer it as the user says; returns how many."""
    vault, _ = unlock(ctx, ctx.secret("App PIN"))
    wanted = vault.user(username).username if username else None
    client = ctx.client(vault)
    seen: set[str] = set()
    answered = 0
    deadline = time.monotonic() + timeout if timeout > 0 else None
    try:
        while count <= 0 or answered < count:
            left = MAX_WAIT if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            pushes = client.pushes(vault.app_id, wait=int(min(MAX_WAIT, left)))
            fresh = [
                p
                for p in pushes
                if str(p.get("push_id")) not in seen
                and (wanted is None or p.get("username") == wanted)
            ]
            for push in fresh:
                seen.add(str(push.get("push_id")))
                outcome = _listen_one(ctx, client, vault, push, ask)
                if outcome is None:
                    return answered
                answered += outcome
            if pushes and not fresh:
                time.sleep(IDLE_PAUSE)
        return answered
    finally:
        client.close()


def _listen_one(
    ctx: Context, client: KeyClient, vault: Vault, push: dict[str, Any], ask: Ask
) -> int | None:
    try:
        verify_push(push, expected_server_key=vault.server_public_key)
    except PushSignatureInvalid as exc:
        ctx.say(exc.message)
        return 0
    ctx.say(f"{describe_push(push)}; numbers: {' '.join(push.get('choices', []))}")
    reply = ask("Pick the number shown on the login screen, or 'deny' or 'not-me'")
    if reply is None:
        return None
    reply = reply.strip().lower()
    try:
        if reply in ("deny", "not-me", "n", "d"):
            done = _answer(
                client, vault, push, decision="deny", number=None, not_me=reply in ("not-me", "n")
            )
        elif reply in push.get("choices", []):
            done = _answer(client, vault, push, decision="approve", number=reply, not_me=False)
        else:
            done = _answer(client, vault, push, decision="deny", number=None, not_me=False)
            ctx.say(f"{reply} is not among the numbers of this request")
    except Refused as exc:
        ctx.say(exc.message)
        return 0
    ctx.say(done.describe())
    return 1


# -- status --------------------------------------------------------------------------
def status(ctx: Context, *, online: bool) -> list[str]:
    """Server, app id and usernames without the PIN; with ``online`` their server state."""
    info = ctx.vault_file.read_public()
    lines = [f"server: {info.server}", f"app_id: {info.app_id}"]
    states: dict[str, str] = {}
    if online:
        vault, _ = unlock(ctx, ctx.secret("App PIN"))
        client = ctx.client(vault)
        try:
            for user in client.app_info(vault.app_id).get("users", []):
                states[str(user.get("username"))] = str(user.get("state"))
        finally:
            client.close()
    for username, device_id in info.users:
        state = f" {states.get(username, 'unknown')}" if online else ""
        lines.append(f"user: {username} device {device_id}{state}")
    return lines
