"""Passkeys (``passkey``, rank 2, SPEC §2): a WebAuthn credential answers the ceremony's
challenge with an assertion made after user verification.

The kind is pure: it draws the challenge (or derives it from the withdrawal it confirms,
R-WD-4) and judges an assertion the relying party (``Keys.assertion``, wired from the
settings' RP ID and origins) has already checked cryptographically: the credential must
be this device's, and its sign count must move forward (a count that goes back is a
clone warning, :class:`CounterWentBack`).  Single use, the 3-answer cap and expiry are
the ceremony's, as for every kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

from securelogin.domain.devices.base import (
    Binding,
    CounterWentBack,
    DeviceView,
    Draw,
    Issued,
    Keys,
    Prompt,
    PromptType,
    Verified,
    WrongAnswer,
)
from securelogin.domain.devices.catalogue import DeviceKind

#: 192 bits (WebAuthn asks for at least 16 bytes); its base64url (32 characters) fits
#: the ceremony's ``challenges.value``
CHALLENGE_BYTES = 24
#: domain separation of a withdrawal's challenge (R-WD-4)
WITHDRAWAL_LABEL = b"securelogin/passkey/withdrawal/v1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise WrongAnswer from None


def withdrawal_challenge(binding: Binding) -> bytes:
    """R-WD-4: SHA-256 over the amount, the destination and the withdrawal's nonce, each
    length-prefixed, cut to :data:`CHALLENGE_BYTES` — a different amount or destination
    gives another challenge, so an assertion for one withdrawal never confirms another."""
    digest = hashlib.sha256(WITHDRAWAL_LABEL)
    for part in (binding.amount.encode(), binding.destination.encode(), binding.nonce):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.digest()[:CHALLENGE_BYTES]


class PasskeyKind:
    kind = DeviceKind.PASSKEY

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        if binding is None:
            raw = bytes(draw(256) for _ in range(CHALLENGE_BYTES))
        else:
            raw = withdrawal_challenge(binding)
        value = b64url(raw)
        rp_id = device.params.get("rp_id")
        return Issued(
            prompt=Prompt(
                type=PromptType.PASSKEY,
                challenge=value,
                rp_id=None if rp_id is None else str(rp_id),
                amount=binding.amount if binding else None,
                destination=binding.destination if binding else None,
            ),
            value=value,
        )

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        if keys.assertion is None or keys.seed is None or expected_value is None:
            raise WrongAnswer
        credential_id, count = keys.assertion(
            response, challenge=unb64url(expected_value), public_key=keys.seed
        )
        if credential_id != device.params.get("credential_id"):
            raise WrongAnswer
        stored = device.counter or 0
        if (count > 0 or stored > 0) and count <= stored:
            raise CounterWentBack(stored=stored, received=count)
        # an authenticator without a counter always says 0: nothing to advance
        return Verified(counter=count if count > 0 else None)
