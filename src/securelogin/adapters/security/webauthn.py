"""The WebAuthn relying party (``service/webauthn_ports.RelyingParty``) on py_webauthn:
one RP ID and the exact origins allowed, both from the settings
(``SECURELOGIN_WEBAUTHN_RP_ID``, ``SECURELOGIN_WEBAUTHN_ORIGINS``).  User verification is
required everywhere; attestation is not asked for (``none``): a passkey is trusted for
what the user proves with it, not for its make."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidCBORData,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from securelogin.domain.devices.base import WrongAnswer
from securelogin.errors import PasskeyRejected
from securelogin.service.webauthn_ports import NewCredential

#: ES256, EdDSA, RS256 (COSE identifiers; ES256 first, as every platform offers it)
ALGORITHMS = (-7, -8, -257)
TIMEOUT_MS = 120_000


def _descriptors(ids: Sequence[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(i)) for i in ids]


def _json(options: object) -> Mapping[str, object]:
    loaded: dict[str, object] = json.loads(options_to_json(options))  # type: ignore[arg-type]
    return loaded


class PyWebAuthnRelyingParty:
    def __init__(self, *, rp_id: str, rp_name: str, origins: Sequence[str]) -> None:
        self._rp_id = rp_id
        self.rp_name = rp_name
        self.origins = list(origins)

    @property
    def rp_id(self) -> str:
        return self._rp_id

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
        options = generate_registration_options(
            rp_id=self._rp_id,
            rp_name=self.rp_name,
            user_id=user_handle,
            user_name=username,
            user_display_name=display_name,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                authenticator_attachment=AuthenticatorAttachment.PLATFORM if platform else None,
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(exclude),
            supported_pub_key_algs=list(ALGORITHMS),  # type: ignore[arg-type]
        )
        return _json(options)

    def verify_registration(self, response: str, *, challenge: bytes) -> NewCredential:
        try:
            verified = verify_registration_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self.origins,
                require_user_presence=True,
                require_user_verification=True,
                supported_pub_key_algs=list(ALGORITHMS),  # type: ignore[arg-type]
            )
        except (
            InvalidRegistrationResponse,
            InvalidJSONStructure,
            InvalidCBORData,
            WebAuthnException,
            ValueError,
            KeyError,
            TypeError,
        ) as exc:
            raise PasskeyRejected(f"The passkey could not be verified: {exc}") from None
        return NewCredential(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            aaguid=verified.aaguid,
            user_verified=verified.user_verified,
        )

    def request_options(self, *, challenge: bytes, allow: Sequence[str]) -> Mapping[str, object]:
        options = generate_authentication_options(
            rp_id=self._rp_id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=_descriptors(allow),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return _json(options)

    def check_assertion(
        self, response: str, *, challenge: bytes, public_key: bytes
    ) -> tuple[str, int]:
        try:
            verified = verify_authentication_response(
                credential=response,
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self.origins,
                credential_public_key=public_key,
                # the count is judged by the caller (a clone warning is audited there)
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except (
            InvalidAuthenticationResponse,
            InvalidJSONStructure,
            InvalidCBORData,
            WebAuthnException,
            ValueError,
            KeyError,
            TypeError,
        ) as exc:
            raise WrongAnswer(str(exc)) from None
        return bytes_to_base64url(verified.credential_id), verified.new_sign_count
