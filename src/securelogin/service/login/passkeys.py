"""Passkeys as a device kind (``passkey``, rank 2, SPEC §2; issue 16 §2): register one
from the security settings, list and remove them.  Logging in and confirming withdrawals
with one is the ordinary second-factor ceremony (``service/ceremony/``; the kind's
plug-in is ``domain/devices/passkey.py``).

Registration is two calls: the options (a fresh 32-byte challenge, single use, valid
5 minutes, kept in ``webauthn_ceremonies``) and the authenticator's answer, which the
relying party checks (origin, RP ID, challenge, user presence *and* verification).  A
passkey is a discoverable credential (resident key required) bound to an opaque user
handle (a keyed hash of the user's id: no username in the authenticator's user id).  It
is a row of ``devices``: the COSE public key sealed with the secret box under the
device's identity (so a key copied to another row does not open), the credential id and
the RP ID in ``params``, the sign count in ``last_counter``.

Only a session opened with one of the user's devices may add a passkey (a password-only
session — opted out, documents only — may not bootstrap a stronger factor by itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from securelogin.domain.access import AccessLevel
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.errors import (
    ConfigurationError,
    DeviceLoginRequired,
    InvalidInput,
    PasskeyCeremonyClosed,
    PasskeyRejected,
    Unauthenticated,
    UnknownPasskey,
)
from securelogin.service.audit import record_user_event
from securelogin.service.context import Services
from securelogin.service.importing import new_device_id
from securelogin.service.login_ports import DeviceRow
from securelogin.service.ports import NewDevice, UnitOfWork, UserRow
from securelogin.service.sessions import CurrentSession
from securelogin.service.webauthn_ports import CeremonyPurpose, RelyingParty

REGISTRATION_TTL = timedelta(minutes=5)
CHALLENGE_BYTES = 32
LABEL_MAX = 64
DEFAULT_LABEL = "Passkey"


@dataclass(frozen=True, kw_only=True)
class RegistrationStarted:
    registration_id: str
    options: Mapping[str, object]
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PasskeyView:
    device_id: str
    label: str
    state: str
    created_at: datetime | None


def relying_party(services: Services) -> RelyingParty:
    if services.webauthn is None:
        raise ConfigurationError("WebAuthn is not wired (SECURELOGIN_WEBAUTHN_RP_ID)")
    return services.webauthn


def user_handle(services: Services, user_id: int) -> bytes:
    """The opaque WebAuthn user id of a user: 32 bytes of a keyed hash of the row id."""
    return bytes.fromhex(services.box.fingerprint(str(user_id).encode(), purpose="webauthn-user"))[
        :32
    ]


def _subject(user_id: int) -> str:
    return f"user:{user_id}"


def _label(text: str | None) -> str:
    label = " ".join((text or "").split())
    if not label:
        return DEFAULT_LABEL
    if len(label) > LABEL_MAX or not label.isprintable():
        raise InvalidInput(f"a passkey's name is 1–{LABEL_MAX} printable characters", field="label")
    return label


def _require_device_login(current: CurrentSession) -> None:
    if current.access_level is not AccessLevel.FULL or current.tier.device_kind is None:
        raise DeviceLoginRequired


def _user(uow: UnitOfWork, user_id: int) -> UserRow:
    user = uow.users.by_id(user_id)
    if user is None:
        raise Unauthenticated
    return user


def _passkeys(uow: UnitOfWork, user_id: int) -> list[DeviceRow]:
    return [
        d
        for d in uow.device_access.of_user(user_id)
        if d.kind == DeviceKind.PASSKEY and d.owner_id == user_id
    ]


def start_registration(
    services: Services, current: CurrentSession, *, label: str | None = None
) -> RegistrationStarted:
    """The ``navigator.credentials.create()`` options for a new passkey of this user."""
    _require_device_login(current)
    name = _label(label)
    rp = relying_party(services)
    now = services.clock.now()
    challenge = services.random.token_bytes(CHALLENGE_BYTES)
    registration_id = "reg_" + services.random.token_bytes(12).hex()
    with services.uow() as uow:
        user = _user(uow, current.user_id)
        active = [
            str(d.params["credential_id"])
            for d in _passkeys(uow, user.id)
            if d.state == DeviceState.ACTIVE and "credential_id" in d.params
        ]
        options = rp.registration_options(
            challenge=challenge,
            user_handle=user_handle(services, user.id),
            username=user.username,
            display_name=user.username,
            exclude=active,
            platform=False,
        )
        uow.webauthn.add_ceremony(
            public_id=registration_id,
            purpose=CeremonyPurpose.PASSKEY_REGISTRATION,
            subject=_subject(user.id),
            challenge=challenge,
            label=name,
            now=now,
            expires_at=now + REGISTRATION_TTL,
        )
        uow.commit()
    return RegistrationStarted(
        registration_id=registration_id, options=options, expires_at=now + REGISTRATION_TTL
    )


def finish_registration(
    services: Services, current: CurrentSession, *, registration_id: str, credential: str
) -> PasskeyView:
    """Verify the authenticator's answer and keep the passkey (state ``active``).  A
    refused answer (422 ``passkey_rejected``) changes nothing, not even the challenge."""
    _require_device_login(current)
    rp = relying_party(services)
    now = services.clock.now()
    with services.uow() as uow:
        user = _user(uow, current.user_id)
        taken = uow.webauthn.take_ceremony(
            registration_id,
            purpose=CeremonyPurpose.PASSKEY_REGISTRATION,
            subject=_subject(user.id),
            now=now,
        )
        if taken is None:
            raise PasskeyCeremonyClosed
        new = rp.verify_registration(credential, challenge=taken.challenge)
        if not new.user_verified:
            raise PasskeyRejected("The authenticator did not verify the user")
        if any(d.params.get("credential_id") == new.credential_id for d in _passkeys(uow, user.id)):
            raise PasskeyRejected("That passkey is registered already")
        public_id = new_device_id(services)
        device_id = uow.devices.add(
            NewDevice(
                public_id=public_id,
                kind=DeviceKind.PASSKEY.value,
                owner_id=user.id,
                state=DeviceState.ACTIVE.value,
                label=taken.label or DEFAULT_LABEL,
                secret=services.box.seal(new.public_key, context=f"device:{public_id}"),
                params={
                    "credential_id": new.credential_id,
                    "rp_id": rp.rp_id,
                    "aaguid": new.aaguid,
                },
                origin="passkey",
            ),
            at=now,
        )
        if new.sign_count > 0:
            uow.device_access.advance_counter(device_id, new.sign_count)
        record_user_event(uow, "passkey.registered", user.username, device_id=public_id)
        uow.commit()
    return PasskeyView(
        device_id=public_id, label=taken.label or DEFAULT_LABEL, state="active", created_at=now
    )


def list_passkeys(services: Services, current: CurrentSession) -> list[PasskeyView]:
    """The user's active passkeys, oldest first."""
    with services.uow() as uow:
        rows = _passkeys(uow, current.user_id)
    return [
        PasskeyView(
            device_id=r.public_id,
            label=r.label or DEFAULT_LABEL,
            state=r.state,
            created_at=r.activated_at,
        )
        for r in rows
        if r.state == DeviceState.ACTIVE
    ]


def remove_passkey(services: Services, current: CurrentSession, *, device_id: str) -> None:
    """The passkey stops working at once (state ``revoked``) and so do the sessions it
    opened (R-LOGIN-11).  Removing is a security-settings change: a full session."""
    if current.access_level is not AccessLevel.FULL:
        raise DeviceLoginRequired
    with services.uow() as uow:
        user = _user(uow, current.user_id)
        found = next((d for d in _passkeys(uow, user.id) if d.public_id == device_id), None)
        if found is None or not uow.lifecycle.move_device(
            found.id, frm=[DeviceState.ACTIVE.value], to=DeviceState.REVOKED.value
        ):
            raise UnknownPasskey
        record_user_event(uow, "passkey.removed", user.username, device_id=device_id)
        uow.commit()
