"""Kinds that answer with a code the device shows: TOTP (``dsc``, ``totp_app``), the SMS code
(``sms``) and the static temporary code (``temporary_code``, R-TEMP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from securelogin.domain import otp
from securelogin.domain.devices.base import (
    Binding,
    DeviceView,
    Draw,
    Issued,
    Keys,
    Prompt,
    PromptType,
    Verified,
    WrongAnswer,
    clean,
    digits,
)
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.identity import mask_phone

SMS_CODE_DIGITS = 6


def check_code(keys: Keys, response: str) -> Verified:
    """The answer must equal the code the service opened (an SMS code, a temporary code)."""
    if keys.code is None or not otp.constant_time_equal(keys.code, clean(response)):
        raise WrongAnswer
    return Verified()


@dataclass(frozen=True)
class TotpKind:
    """RFC 6238; accepts the current and the previous step only (SPEC §2, ``dsc``).

    The step that matched is returned so that the service can refuse any step not newer
    than the last one accepted for this device (R-LOGIN-6: never twice).
    """

    kind: DeviceKind

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        return Issued(prompt=Prompt(type=PromptType.CODE))

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        if keys.seed is None:
            raise WrongAnswer
        period = int(device.params.get("period", 30))
        size = int(device.params.get("digits", 6))
        algorithm = str(device.params.get("algorithm", "sha1"))
        answer = clean(response)
        now_step = otp.totp_counter(at.timestamp(), period)
        matched = None
        for step in (now_step, now_step - 1):  # check both: equal work whichever matches
            code = otp.hotp(keys.seed, step, digits=size, algorithm=algorithm)
            if otp.constant_time_equal(code, answer) and matched is None:
                matched = step
        if matched is None:
            raise WrongAnswer
        return Verified(counter=matched)


@dataclass(frozen=True)
class SmsKind:
    """A 6-digit code sent to the phone on record; single use, valid 5 minutes (SPEC §2)."""

    kind: DeviceKind = DeviceKind.SMS

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        phone = str(device.params.get("phone", ""))
        return Issued(
            prompt=Prompt(
                type=PromptType.SMS,
                sent_to=mask_phone(phone),
                amount=binding.amount if binding else None,
                destination=binding.destination if binding else None,
            ),
            secret=digits(draw, SMS_CODE_DIGITS),
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
        return check_code(keys, response)


@dataclass(frozen=True)
class TemporaryCodeKind:
    """Twelve upper-case letters, reusable while the code is valid (R-TEMP, R-LOGIN-9)."""

    kind: DeviceKind = DeviceKind.TEMPORARY_CODE

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        return Issued(prompt=Prompt(type=PromptType.CODE))

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        return check_code(keys, response)
