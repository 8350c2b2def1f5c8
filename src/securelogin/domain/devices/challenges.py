"""Kinds that answer a server challenge: OCRA cards (``dsc_plus``, ``platinum_card``,
``gold_card``; RFC 6287) and printed code cards (``code_card``, ``online_code_card``)."""

from __future__ import annotations

import hashlib
import hmac
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

CARD_VALUE_LENGTH = 3


def bound_challenge(binding: Binding, size: int) -> str:
    """R-WD-4 dynamic linking: a challenge derived from amount, destination and a nonce,
    so that the response computed for it confirms only that withdrawal."""
    message = f"{binding.amount}\x1f{binding.destination}".encode()
    number = int.from_bytes(hmac.new(binding.nonce, message, hashlib.sha256).digest(), "big")
    return str(number % 10**size).zfill(size)


@dataclass(frozen=True)
class OcraKind:
    """Challenge/response with an OCRA suite; PIN suites take the PIN as input (SPEC §2)."""

    kind: DeviceKind
    suite: str

    @property
    def question_digits(self) -> int:
        return otp.parse_ocra_suite(self.suite).question_length

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        size = self.question_digits
        value = bound_challenge(binding, size) if binding else digits(draw, size)
        prompt = Prompt(
            type=PromptType.CHALLENGE,
            challenge=value,
            amount=binding.amount if binding else None,
            destination=binding.destination if binding else None,
        )
        return Issued(prompt=prompt, value=value)

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        if keys.seed is None or expected_value is None:
            raise WrongAnswer
        suite = otp.parse_ocra_suite(self.suite)
        pin = keys.pin if suite.pin_algorithm else None
        if suite.pin_algorithm and pin is None:
            raise WrongAnswer
        expected = otp.ocra(suite, keys.seed, question=expected_value, pin=pin)
        if not otp.constant_time_equal(expected, clean(response)):
            raise WrongAnswer
        return Verified()


@dataclass(frozen=True)
class CardKind:
    """Two positions are shown; the answer is both 3-character values, concatenated."""

    kind: DeviceKind

    def challenge(self, device: DeviceView, *, draw: Draw, binding: Binding | None) -> Issued:
        positions = int(device.params.get("positions", 200))
        first = draw(positions) + 1
        second = draw(positions - 1) + 1
        if second >= first:
            second += 1  # two distinct positions, uniformly
        pair = (min(first, second), max(first, second))
        prompt = Prompt(
            type=PromptType.CARD,
            indices=pair,
            amount=binding.amount if binding else None,
            destination=binding.destination if binding else None,
        )
        return Issued(prompt=prompt, value=f"{pair[0]},{pair[1]}")

    def verify(
        self,
        device: DeviceView,
        keys: Keys,
        *,
        expected_value: str | None,
        response: str,
        at: datetime,
    ) -> Verified:
        if keys.card_hash is None or expected_value is None:
            raise WrongAnswer
        first, second = card_pair(expected_value)
        answer = clean(response)
        if len(answer) != 2 * CARD_VALUE_LENGTH:
            raise WrongAnswer
        ok_first = hmac.compare_digest(
            keys.card_hash(first, answer[:3]), keys.card_hashes.get(first, "")
        )
        ok_second = hmac.compare_digest(
            keys.card_hash(second, answer[3:]), keys.card_hashes.get(second, "")
        )
        if not (ok_first and ok_second):
            raise WrongAnswer
        return Verified()


def card_pair(value: str) -> tuple[int, int]:
    first, _, second = value.partition(",")
    return int(first), int(second)
