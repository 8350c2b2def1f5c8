"""The soft key's server-assisted app PIN (issue 12 §6, docs/mobile-key-protocol.md
"Server-assisted app PIN").

The app's vault is sealed under a key derived from its PIN *and* a random 32-byte share
that only the server keeps.  The server stores the share sealed with the secret box and
the app's PIN verifier as a keyed hash, and releases the share only for the right
verifier.  Every proof is counted before it is checked (one conditional UPDATE), so
parallel guesses get exactly the allowance: after ``MAX_PIN_FAILURES`` wrong proofs in a
row the app PIN is locked; the recovery PIN (R-KEY-2) resets the count, and wrong recovery
PINs count on the same counter up to ``MAX_RESET_FAILURES``, after which only a new
activation (with an SMS code) helps.
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
from securelogin.service.mobile_key_ports import AppRow
from securelogin.service.ports import UnitOfWork

MAX_PIN_FAILURES = 10
#: wrong recovery PINs count on the same counter; past this only re-activation helps
MAX_RESET_FAILURES = 20
SECRET_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class PinSetting:
    """What the app registers: its PIN verifier and the vault's server share."""

    verifier: bytes
    share: bytes


def _bytes(text: str, field: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != SECRET_BYTES or len(text) > 64:
        raise InvalidInput(f"{field} must be base64url of {SECRET_BYTES} bytes", field=field)
    return raw


def pin_setting(verifier: str | None, share: str | None) -> PinSetting | None:
    """Both fields or neither (an app that keeps a local PIN check, e.g. the web app)."""
    if verifier is None and share is None:
        return None
    if verifier is None or share is None:
        field = "pin_verifier" if verifier is None else "server_share"
        raise InvalidInput("pin_verifier and server_share come together", field=field)
    return PinSetting(
        verifier=_bytes(verifier, "pin_verifier"), share=_bytes(share, "server_share")
    )


def _context(app_id: str) -> str:
    return f"key-pin:{app_id}"


def verifier_hash(services: Services, app_id: str, verifier: bytes) -> str:
    return services.box.fingerprint(verifier, purpose=_context(app_id))


def sealed_share(services: Services, app_id: str, share: bytes) -> bytes:
    return services.box.seal(share, context=_context(app_id))


def _audit(uow: UnitOfWork, action: str, app_id: str, **data: str | int) -> None:
    uow.audit.record(AuditEvent(action=action, actor=app_id, subject=app_id, data=dict(data)))


def _active_app(uow: UnitOfWork, app_id: str) -> AppRow:
    app = uow.mobile_keys.app(app_id)
    if app is None or app.state != "active":
        raise KeySignatureInvalid("Unknown or deactivated app")
    return app


def unlock(services: Services, *, app_id: str, proof: str) -> bytes:
    """The vault's server share for the right PIN proof; each proof is counted first."""
    given = _bytes(proof, "proof")
    with services.uow() as uow:
        app = _active_app(uow, app_id)
        if app.pin_verifier is None or app.pin_share is None:
            raise AppPinNotSet
        failures = uow.mobile_keys.take_pin_attempt(app.id, limit=MAX_PIN_FAILURES)
        if failures is None:
            raise AppPinLocked
        if not hmac.compare_digest(verifier_hash(services, app_id, given), app.pin_verifier):
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
        uow.mobile_keys.set_pin(
            app.id,
            verifier=verifier_hash(services, app.app_id, setting.verifier),
            sealed_share=sealed_share(services, app.app_id, setting.share),
        )
        _audit(uow, "mobile_key.app_pin_set", app.app_id)
        uow.commit()


def reset_pin(services: Services, *, app_id: str, recovery_pin: str) -> None:
    """R-KEY-2: the recovery PIN re-enables a locked app PIN (the count goes to 0)."""
    with services.uow() as uow:
        app = _active_app(uow, app_id)
        if uow.mobile_keys.take_pin_attempt(app.id, limit=MAX_RESET_FAILURES) is None:
            raise AppPinLocked
        if not services.passwords.verify(app.recovery_pin_hash, recovery_pin):
            _audit(uow, "mobile_key.recovery_pin_failed", app_id)
            uow.commit()
            raise InvalidCredentials
        uow.mobile_keys.clear_pin_failures(app.id)
        _audit(uow, "mobile_key.app_pin_reset", app_id)
        uow.commit()
