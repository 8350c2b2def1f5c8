"""Ports of WebAuthn (issue 16 §2 passkeys, issue 15 the app's biometric unlock): the
relying party (one component, py_webauthn behind it, wired from the settings' RP ID and
allowed origins) and the storage of one-time challenges and the app's credential."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class CeremonyPurpose(StrEnum):
    """What a WebAuthn challenge of ``webauthn_ceremonies`` is for."""

    PASSKEY_REGISTRATION = "passkey_registration"
    APP_BIOMETRIC_REGISTRATION = "app_bio_registration"
    APP_BIOMETRIC_UNLOCK = "app_bio_unlock"


@dataclass(frozen=True, kw_only=True)
class NewCredential:
    """A verified registration: what the server keeps of the credential."""

    credential_id: str  # base64url
    public_key: bytes  # COSE
    sign_count: int
    aaguid: str
    user_verified: bool


@dataclass(frozen=True, kw_only=True)
class TakenCeremony:
    challenge: bytes
    label: str | None


@dataclass(frozen=True, kw_only=True)
class AppBiometric:
    credential_id: str
    public_key: bytes  # sealed
    sign_count: int
    share: bytes  # sealed


class RelyingParty(Protocol):
    """The server's WebAuthn relying party for one RP ID and its allowed origins."""

    @property
    def rp_id(self) -> str: ...

    def registration_options(
        self,
        *,
        challenge: bytes,
        user_handle: bytes,
        username: str,
        display_name: str,
        exclude: Sequence[str],
        platform: bool,
    ) -> Mapping[str, object]:
        """``PublicKeyCredentialCreationOptions`` as JSON (binary fields base64url):
        ES256 (and EdDSA, RS256), user verification required, a discoverable credential
        (resident key required); ``platform`` asks for the device's own authenticator."""
        ...

    def verify_registration(self, response: str, *, challenge: bytes) -> NewCredential:
        """Check ``navigator.credentials.create()``'s answer (JSON); ``PasskeyRejected``
        when the origin, RP ID, challenge, type, flags (UP and UV) or algorithm fail."""
        ...

    def request_options(self, *, challenge: bytes, allow: Sequence[str]) -> Mapping[str, object]:
        """``PublicKeyCredentialRequestOptions`` as JSON, user verification required."""
        ...

    def check_assertion(
        self, response: str, *, challenge: bytes, public_key: bytes
    ) -> tuple[str, int]:
        """The credential id and sign count of a verified assertion; ``WrongAnswer`` when
        any check fails (the sign count is judged by the caller)."""
        ...


class WebAuthnRepository(Protocol):
    def add_ceremony(
        self,
        *,
        public_id: str,
        purpose: CeremonyPurpose,
        subject: str,
        challenge: bytes,
        label: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> None: ...

    def take_ceremony(
        self, public_id: str, *, purpose: CeremonyPurpose, subject: str, now: datetime
    ) -> TakenCeremony | None:
        """Mark the challenge used (one conditional UPDATE: unused, unexpired, this
        purpose and subject) and return it; None when it cannot be used (R-LOGIN-6)."""
        ...

    def app_biometric(self, app_ref: int) -> AppBiometric | None: ...

    def set_app_biometric(
        self,
        app_ref: int,
        *,
        credential_id: str,
        public_key: bytes,
        sign_count: int,
        share: bytes,
        now: datetime,
    ) -> None:
        """Register (or replace) the app's credential."""
        ...

    def advance_app_count(self, app_ref: int, count: int) -> bool:
        """Store a sign count above the stored one (conditional UPDATE); False if not."""
        ...

    def drop_app_biometric(self, app_ref: int) -> bool: ...
