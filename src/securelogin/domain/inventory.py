"""Which manufacturer seeds fit which hardware kind (SPEC §2 "Algorithms", R-OPS-3).

Pure.  The checks are lenient about how a manufacturer names things (PSKC algorithm URIs
vary) and strict about what would make a device unusable: a seed too short for HMAC
(RFC 4226 §4 asks for 128 bits at least), a TOTP seed for a challenge/response card, or a
response length the kind's fixed algorithm cannot produce.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from securelogin.domain.devices.catalogue import HARDWARE_KINDS, DeviceKind

MIN_SEED_BYTES = 16  # RFC 4226 §4 R6: at least 128 bits
MAX_SEED_BYTES = 64  # an HMAC-SHA512 block; anything longer is not a device seed
MAX_SERIAL_LENGTH = 64
DSC_DIGITS = 6  # SPEC §2: TOTP, 6 digits
CARD_DIGITS = 8  # SPEC §2: every OCRA suite of a card answers with 8 digits
PIN_RE = re.compile(r"^[0-9]{4}$")  # R-LOST-3: the DSC+ soft PIN


class SeedProblem(ValueError):
    """One seed does not fit the kind; ``field`` names what is wrong."""

    def __init__(self, serial: str, field: str, problem: str) -> None:
        super().__init__(f"{serial}: {field}: {problem}")
        self.serial = serial
        self.field = field
        self.problem = problem


def hardware_kind(text: str) -> DeviceKind:
    """The hardware kind named ``text``; ValueError naming the choices otherwise."""
    choices = ", ".join(HARDWARE_KINDS)
    try:
        kind = DeviceKind(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown device kind {text!r} (hardware kinds: {choices})") from None
    if kind not in HARDWARE_KINDS:
        raise ValueError(f"{kind} devices are not hardware from a seed file (use {choices})")
    return kind


def check_seed(
    kind: DeviceKind,
    *,
    serial: str,
    seed_length: int,
    algorithm: str,
    digits: int | None,
    time_interval: int | None,
) -> None:
    """Raise SeedProblem unless the seed can drive a device of ``kind``."""
    if not serial or len(serial) > MAX_SERIAL_LENGTH or not serial.isprintable():
        raise SeedProblem(serial, "serial", f"must be 1-{MAX_SERIAL_LENGTH} printable characters")
    if not MIN_SEED_BYTES <= seed_length <= MAX_SEED_BYTES:
        raise SeedProblem(
            serial,
            "secret",
            f"a seed of {seed_length} bytes is refused "
            f"(need {MIN_SEED_BYTES}-{MAX_SEED_BYTES} bytes)",
        )
    name = algorithm.strip().lower()
    if kind is DeviceKind.DSC:
        timed = name.endswith("totp") or (time_interval is not None and "ocra" not in name)
        if not timed:
            raise SeedProblem(serial, "algorithm", f"a dsc needs a TOTP seed, not {algorithm!r}")
        if time_interval is not None and not 1 <= time_interval <= 300:
            raise SeedProblem(serial, "time_interval", f"{time_interval} s is not a TOTP step")
        _digits(serial, digits, DSC_DIGITS)
    else:
        if "ocra" not in name and not name.endswith("hotp"):
            raise SeedProblem(
                serial, "algorithm", f"a {kind} needs an OCRA or HOTP seed, not {algorithm!r}"
            )
        _digits(serial, digits, CARD_DIGITS)


def _digits(serial: str, digits: int | None, expected: int) -> None:
    if digits is not None and digits != expected:
        raise SeedProblem(serial, "digits", f"the device answers {expected} digits, not {digits}")


def seed_params(
    kind: DeviceKind,
    *,
    algorithm: str,
    digits: int | None,
    counter: int | None,
    time_interval: int | None,
    manufacturer: str | None,
) -> Mapping[str, str | int]:
    """The non-secret metadata a device row keeps.  ``period`` and ``digits`` are the names
    the TOTP kind reads; the PSKC URI is kept apart from ``algorithm`` (a hash name there)."""
    params: dict[str, str | int] = {"pskc_algorithm": algorithm}
    if kind is DeviceKind.DSC:
        params["period"] = time_interval or 30
        params["digits"] = digits or DSC_DIGITS
    elif digits is not None:
        params["digits"] = digits
    if counter is not None:
        params["counter"] = counter
    if manufacturer:
        params["manufacturer"] = manufacturer
    return params
