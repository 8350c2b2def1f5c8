"""The soft key's server-assisted app PIN (issue 12 §6, docs/mobile-key-protocol.md
"Server-assisted app PIN").

The app's vault is sealed under a key derived from its PIN *and* a random 32-byte share
that only the server keeps.  The server stores the share sealed with the secret box and
the app's PIN verifier as a keyed hash, and releases the share only for the right
verifier.  Every proof is counted before it is checked (one conditional UPDATE), so
parallel guesses get exactly the allowance: after ``MAX_PIN_FAILURES`` wrong proofs in a
row the app PIN is locked; the recovery PIN (R-KEY-2) resets the count, and wrong recovery
PINs count on the same counter up to ``MAX_RESET_FAILURES``, after which only a new
activation (with an SMS code) helps.  Both calls also carry the unlock token the vault
file holds in the clear (the signing key is inside the vault), so only a holder of the
file can spend the allowance; a wrong token is not counted.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from securelogin.domain.audit import AuditEvent
from securelogin.errors import (
    AppPinLocked,
    AppPinNotSet,
    AppPinWrong,
    InvalidCredentials,
    InvalidInput,
    KeySignatureInvalid,
)
from securelogin.service.context import Services
from securelogin.service.mobile_key_ports import AppRow, StoredPin
from securelogin.service.ports import UnitOfWork

MAX_PIN_FAILURES = 10
#: wrong recovery PINs count on the same counter; past this only re-activation helps
MAX_RESET_FAILURES = 20
SECRET_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class PinSetting:
    """What the app registers: its PIN verifier, the vault's server share and the
    unlock token."""

    verifier: bytes
    share: bytes
    token: bytes


def decode_secret(text: str, field: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != SECRET_BYTES or len(text) > 64:
        raise InvalidInput(f"{field} must be base64url of {SECRET_BYTES} bytes", field=field)
    return raw


def pin_setting(verifier: str | None, share: str | None, token: str | None) -> PinSetting | None:
    """All three fields or none (an app that keeps a local PIN check, e.g. the web app)."""
    fields = {"pin_verifier": verifier, "server_share": share, "unlock_token": token}
    if all(v is None for v in fields.values()):
        return None
    for name, value in fields.items():
        if value is None:
            raise InvalidInput(
                "pin_verifier, server_share and unlock_token come together", field=name
            )
    assert verifier is not None and share is not None and token is not None  # noqa: S101
    return PinSetting(
        verifier=decode_secret(verifier, "pin_verifier"),
        share=decode_secret(share, "server_share"),
        token=decode_secret(token, "unlock_token"),
    )


def _context(app_id: str) -> str:
    return f"key-pin:{app_id}"


def _hash(services: Services, app_id: str, value: bytes, what: str) -> str:
    return services.box.fingerprint(value, purpose=f"{_context(app_id)}:{what}")


def stored(services: Services, app_id: str, setting: PinSetting) -> StoredPin:
    """Keyed hashes of verifier and token; the share sealed with the secret box."""
    return StoredPin(
        verifier=_hash(services, app_id, setting.verifier, "verifier"),
        share=services.box.seal(setting.share, context=_context(app_id)),
        token=_hash(services, app_id, setting.token, "token"),
    )


def _audit(uow: UnitOfWork, action: str, app_id: str, **data: str | int) -> None:
    uow.audit.record(AuditEvent(action=action, actor=app_id, subject=app_id, data=dict(data)))


def holder(services: Services, uow: UnitOfWork, app_id: str, token: str) -> AppRow:
    """The active app whose vault file holds this unlock token (else 401, not counted)."""
    given = decode_secret(token, "unlock_token")
    app = uow.mobile_keys.app(app_id)
    if app is None or app.state != "active":
        raise KeySignatureInvalid("Unknown or deactivated app")
    if app.pin_verifier is None or app.pin_share is None or app.pin_token is None:
        raise AppPinNotSet
    if not hmac.compare_digest(_hash(services, app_id, given, "token"), app.pin_token):
        raise KeySignatureInvalid("The unlock token is not this app's")
    return app


def unlock(services: Services, *, app_id: str, token: str, proof: str) -> bytes:
    """The vault's server share for the right PIN proof; each proof is counted first."""
    given = decode_secret(proof, "proof")
    with services.uow() as uow:
        app = holder(services, uow, app_id, token)
        assert app.pin_verifier is not None and app.pin_share is not None  # noqa: S101
        failures = uow.mobile_keys.take_pin_attempt(app.id, limit=MAX_PIN_FAILURES)
        if failures is None:
            raise AppPinLocked
        if not hmac.compare_digest(_hash(services, app_id, given, "verifier"), app.pin_verifier):
            _audit(uow, "mobile_key.app_pin_failed", app_id, attempt=failures)
            uow.commit()
            if failures >= MAX_PIN_FAILURES:
                raise AppPinLocked
            raise AppPinWrong(remaining=MAX_PIN_FAILURES - failures)
        uow.mobile_keys.clear_pin_failures(app.id)
        uow.commit()
    return services.box.open(app.pin_share, context=_context(app_id))


def set_pin(services: Services, app: AppRow, setting: PinSetting) -> None:
    """A signed call (the vault is open): a new verifier and share, the count at 0 —
    a changed app PIN, or the upgrade of a vault of the first format."""
    with services.uow() as uow:
        uow.mobile_keys.set_pin(app.id, stored(services, app.app_id, setting))
        _audit(uow, "mobile_key.app_pin_set", app.app_id)
        uow.commit()


def reset_pin(services: Services, *, app_id: str, token: str, recovery_pin: str) -> None:
    """R-KEY-2: the recovery PIN re-enables a locked app PIN (the count goes to 0)."""
    with services.uow() as uow:
        app = holder(services, uow, app_id, token)
        if uow.mobile_keys.take_pin_attempt(app.id, limit=MAX_RESET_FAILURES) is None:
            raise AppPinLocked
        if not services.passwords.verify(app.recovery_pin_hash, recovery_pin):
            _audit(uow, "mobile_key.recovery_pin_failed", app_id)
            uow.commit()
            raise InvalidCredentials
        uow.mobile_keys.clear_pin_failures(app.id)
        _audit(uow, "mobile_key.app_pin_reset", app_id)
        uow.commit()
