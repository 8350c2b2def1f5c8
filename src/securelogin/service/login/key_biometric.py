"""The web app's biometric unlock, registered with the server (issue 15; the same
WebAuthn relying party as passkeys, ``service/login/passkeys.py``).

Beside the app PIN's server share (``key_pin``), the app may register a WebAuthn
*platform* credential (user verification required: Face ID, Touch ID, Android
biometrics) and a second random 32-byte share, the **biometric share**, which the server
keeps sealed and releases only for an assertion it has verified itself — origin, RP ID,
a single-use challenge it issued for this app, user presence and verification, the
signature, and a sign count that moves forward (one that goes back is refused and
audited as a clone warning).  The app keeps its vault's secrets also wrapped under a key
derived from that share, so the assertion *replaces typing the PIN* in the
server-assisted unlock: a copied IndexedDB opens neither with PIN guesses nor without
the phone's authenticator.

The unlock calls carry the unlock token like ``key_pin.unlock`` (the signing key is in
the vault they open); every assertion is counted on the app PIN's counter before it is
judged, and a right one clears it, so the allowance is shared with PIN guesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.base import WrongAnswer
from securelogin.errors import (
    AppPinLocked,
    BiometricNotSet,
    BiometricRejected,
    PasskeyCeremonyClosed,
    PasskeyRejected,
)
from securelogin.service.context import Services
from securelogin.service.login.key_pin import MAX_PIN_FAILURES, decode_secret, holder
from securelogin.service.login.passkeys import relying_party
from securelogin.service.mobile_key_ports import AppRow
from securelogin.service.ports import UnitOfWork
from securelogin.service.webauthn_ports import CeremonyPurpose

CEREMONY_TTL = timedelta(minutes=2)
CHALLENGE_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class Ceremony:
    ceremony_id: str
    options: Mapping[str, object]


def _subject(app_id: str) -> str:
    return f"app:{app_id}"


def _context(app_id: str) -> str:
    return f"key-bio:{app_id}"


def _audit(uow: UnitOfWork, action: str, app_id: str, **data: str | int) -> None:
    uow.audit.record(AuditEvent(action=action, actor=app_id, subject=app_id, data=dict(data)))


def _new(
    services: Services,
    uow: UnitOfWork,
    app_id: str,
    purpose: CeremonyPurpose,
) -> tuple[str, bytes]:
    now = services.clock.now()
    challenge = services.random.token_bytes(CHALLENGE_BYTES)
    ceremony_id = "bio_" + services.random.token_bytes(12).hex()
    uow.webauthn.add_ceremony(
        public_id=ceremony_id,
        purpose=purpose,
        subject=_subject(app_id),
        challenge=challenge,
        label=None,
        now=now,
        expires_at=now + CEREMONY_TTL,
    )
    return ceremony_id, challenge


def start_registration(services: Services, app: AppRow) -> Ceremony:
    """A signed call (the vault is open): creation options for a platform credential."""
    rp = relying_party(services)
    with services.uow() as uow:
        known = uow.webauthn.app_biometric(app.id)
        ceremony_id, challenge = _new(
            services, uow, app.app_id, CeremonyPurpose.APP_BIOMETRIC_REGISTRATION
        )
        options = rp.registration_options(
            challenge=challenge,
            user_handle=bytes.fromhex(
                services.box.fingerprint(app.app_id.encode(), purpose="webauthn-app")
            )[:32],
            username=f"Mobile Key {app.app_id[-6:]}",
            display_name="Mobile Key",
            exclude=[known.credential_id] if known else [],
            platform=True,
        )
        uow.commit()
    return Ceremony(ceremony_id=ceremony_id, options=options)


def finish_registration(
    services: Services, app: AppRow, *, ceremony_id: str, credential: str, share: str
) -> None:
    """Keep the verified credential and the sealed biometric share (replacing any
    earlier one).  A refused credential (422 ``passkey_rejected``) changes nothing."""
    rp = relying_party(services)
    raw_share = decode_secret(share, "biometric_share")
    now = services.clock.now()
    with services.uow() as uow:
        taken = uow.webauthn.take_ceremony(
            ceremony_id,
            purpose=CeremonyPurpose.APP_BIOMETRIC_REGISTRATION,
            subject=_subject(app.app_id),
            now=now,
        )
        if taken is None:
            raise PasskeyCeremonyClosed
        new = rp.verify_registration(credential, challenge=taken.challenge)
        if not new.user_verified:
            raise PasskeyRejected("The authenticator did not verify the user")
        uow.webauthn.set_app_biometric(
            app.id,
            credential_id=new.credential_id,
            public_key=services.box.seal(new.public_key, context=_context(app.app_id)),
            sign_count=new.sign_count,
            share=services.box.seal(raw_share, context=_context(app.app_id) + ":share"),
            now=now,
        )
        _audit(uow, "mobile_key.biometric_registered", app.app_id)
        uow.commit()


def turn_off(services: Services, app: AppRow) -> None:
    """A signed call: the credential and the biometric share are forgotten."""
    with services.uow() as uow:
        if not uow.webauthn.drop_app_biometric(app.id):
            raise BiometricNotSet
        _audit(uow, "mobile_key.biometric_removed", app.app_id)
        uow.commit()


def unlock_options(services: Services, *, app_id: str, token: str) -> Ceremony:
    """Request options (a fresh single-use challenge, the app's credential only)."""
    rp = relying_party(services)
    with services.uow() as uow:
        app = holder(services, uow, app_id, token)
        known = uow.webauthn.app_biometric(app.id)
        if known is None:
            raise BiometricNotSet
        ceremony_id, challenge = _new(
            services, uow, app.app_id, CeremonyPurpose.APP_BIOMETRIC_UNLOCK
        )
        options = rp.request_options(challenge=challenge, allow=[known.credential_id])
        uow.commit()
    return Ceremony(ceremony_id=ceremony_id, options=options)


def unlock(
    services: Services, *, app_id: str, token: str, ceremony_id: str, credential: str
) -> bytes:
    """The biometric share for a verified assertion over the challenge of
    ``ceremony_id``; 401 ``biometric_rejected`` otherwise (counted, the challenge used)."""
    rp = relying_party(services)
    now = services.clock.now()
    with services.uow() as uow:
        app = holder(services, uow, app_id, token)
        known = uow.webauthn.app_biometric(app.id)
        if known is None:
            raise BiometricNotSet
        taken = uow.webauthn.take_ceremony(
            ceremony_id,
            purpose=CeremonyPurpose.APP_BIOMETRIC_UNLOCK,
            subject=_subject(app.app_id),
            now=now,
        )
        if taken is None:
            raise PasskeyCeremonyClosed
        failures = uow.mobile_keys.take_pin_attempt(app.id, limit=MAX_PIN_FAILURES)
        if failures is None:
            raise AppPinLocked
        public_key = services.box.open(known.public_key, context=_context(app.app_id))
        try:
            credential_id, count = rp.check_assertion(
                credential, challenge=taken.challenge, public_key=public_key
            )
        except WrongAnswer as wrong:
            _audit(uow, "mobile_key.biometric_failed", app.app_id, reason=str(wrong)[:200])
            uow.commit()
            raise BiometricRejected from None
        went_back = (count > 0 or known.sign_count > 0) and count <= known.sign_count
        if credential_id != known.credential_id or went_back:
            if went_back:
                _audit(
                    uow,
                    "device.clone_warning",
                    app.app_id,
                    kind="app_biometric",
                    stored_count=known.sign_count,
                    received_count=count,
                )
            uow.commit()
            raise BiometricRejected
        if count > 0 and not uow.webauthn.advance_app_count(app.id, count):
            uow.commit()
            raise BiometricRejected
        uow.mobile_keys.clear_pin_failures(app.id)
        _audit(uow, "mobile_key.biometric_unlock", app.app_id)
        uow.commit()
    return services.box.open(known.share, context=_context(app.app_id) + ":share")
