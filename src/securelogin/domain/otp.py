"""One-time-password maths ("hazmat"): HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287).

Pure functions of their inputs: no policy (look-ahead windows, replay bookkeeping and
throttling live in ``domain/devices``), no I/O, no clock -- time is a parameter, as in
pyca/cryptography's ``TOTP.generate(time)``.  Malformed input raises ``OtpInputError``.

Byte conventions follow the RFC reference code and tests/data/vectors.json:

* HOTP: HMAC(K, 8-byte big-endian counter), dynamic truncation (RFC 4226 §5.3).
* TOTP: HOTP with T = floor((unix - T0) / X) (RFC 6238 §4.2).
* OCRA: HMAC(K, suite | 0x00 | [C] | Q | [P] | [S] | [T]) (RFC 6287 §5.2), Q padded to
  128 bytes: N -> decimal as upper-case hex, right-padded with '0' nibbles; A -> ASCII
  right-padded with 0x00; H -> hex nibbles right-padded with '0'.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import struct
from dataclasses import dataclass
from enum import StrEnum

_ALGORITHMS = {"sha1": 20, "sha256": 32, "sha512": 64}  # name -> digest size in bytes
_MAX_COUNTER = 2**64 - 1
_QUESTION_BYTES = 128  # RFC 6287 §5.2: Q is always 128 bytes in the data input
_TIME_UNITS = {"S": (1, 59), "M": (60, 59), "H": (3600, 48)}  # unit -> (seconds, max n)


class OtpInputError(ValueError):
    """An OTP input (key, suite, question, counter, PIN, time) is malformed or missing."""


class QuestionFormat(StrEnum):
    """RFC 6287 §6.3 challenge formats."""

    ALPHANUMERIC = "A"
    NUMERIC = "N"
    HEX = "H"


def _algorithm(name: str) -> str:
    algorithm = name.lower()
    if algorithm not in _ALGORITHMS:
        raise OtpInputError(f"unsupported HMAC algorithm {name!r} (use sha1, sha256, sha512)")
    return algorithm


def _truncate(mac: bytes, digits: int) -> str:
    """RFC 4226 §5.3 dynamic truncation; ``digits == 0`` is OCRA's "no truncation"."""
    if digits == 0:
        return mac.hex()
    offset = mac[-1] & 0x0F
    (code,) = struct.unpack(">I", mac[offset : offset + 4])
    return str((code & 0x7FFFFFFF) % 10**digits).zfill(digits)


def _check_key(key: bytes) -> None:
    if not key:
        raise OtpInputError("the OTP key is empty")


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter`` (RFC 6238 §1.2 allows SHA-256/512 as well)."""
    _check_key(key)
    if not 6 <= digits <= 10:
        raise OtpInputError(f"HOTP digits must be 6..10, not {digits}")
    if not 0 <= counter <= _MAX_COUNTER:
        raise OtpInputError(f"HOTP counter {counter} is outside 0..2^64-1")
    mac = hmac.new(key, struct.pack(">Q", counter), _algorithm(algorithm)).digest()
    return _truncate(mac, digits)


def totp_counter(at: int | float, step: int = 30, t0: int = 0) -> int:
    """RFC 6238 §4.2: the time step T = floor((at - T0) / X) for unix time ``at``."""
    if step <= 0:
        raise OtpInputError(f"TOTP step must be positive, not {step}")
    if not math.isfinite(at) or at < t0:
        raise OtpInputError(f"TOTP time {at} is not a finite time at or after T0={t0}")
    return int((at - t0) // step)  # float // floors exactly, unlike floor(a / b)


def totp(
    key: bytes,
    *,
    at: int | float,
    step: int = 30,
    t0: int = 0,
    digits: int = 6,
    algorithm: str = "sha1",
) -> str:
    """RFC 6238 TOTP value at unix time ``at`` (the caller supplies the clock)."""
    return hotp(key, totp_counter(at, step, t0), digits=digits, algorithm=algorithm)


@dataclass(frozen=True, kw_only=True)
class OcraSuite:
    """A parsed RFC 6287 §6 OCRASuite; build it with ``parse_ocra_suite``."""

    text: str
    algorithm: str  # HMAC hash: "sha1" | "sha256" | "sha512"
    digits: int  # 0 = no truncation (the full HMAC, hex)
    counter: bool  # C
    question_format: QuestionFormat  # QFxx
    question_length: int  # xx: the longest challenge one party may ask
    pin_algorithm: str | None = None  # PH
    session_length: int | None = None  # Snnn, bytes
    time_step: int | None = None  # TG, seconds

    def __str__(self) -> str:
        return self.text


_CRYPTO_RE = re.compile(r"HOTP-SHA(1|256|512)-([0-9]{1,2})")
_QUESTION_RE = re.compile(r"Q([ANH])([0-9]{2})")
_PIN_RE = re.compile(r"PSHA(1|256|512)")
_SESSION_RE = re.compile(r"S([0-9]{3})")
_TIME_RE = re.compile(r"T([0-9]{1,2})([SMH])")


def parse_ocra_suite(text: str) -> OcraSuite:
    """Parse ``OCRA-1:HOTP-SHAx-d:[C-]QFxx[-PH][-Snnn][-TG]`` (RFC 6287 §6)."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "OCRA-1":
        raise OtpInputError(f"malformed OCRA suite {text!r}: expected 'OCRA-1:<crypto>:<data>'")
    crypto = _CRYPTO_RE.fullmatch(parts[1])
    if crypto is None:
        raise OtpInputError(f"malformed OCRA crypto function {parts[1]!r} in {text!r}")
    digits = int(crypto.group(2))
    if digits != 0 and not 4 <= digits <= 10:
        raise OtpInputError(f"OCRA digits must be 0 or 4..10, not {digits} in {text!r}")
    fields = parts[2].split("-")
    counter = fields[0] == "C"
    fields = fields[1:] if counter else fields
    question = _QUESTION_RE.fullmatch(fields[0]) if fields else None
    if question is None or not 4 <= int(question.group(2)) <= 64:
        raise OtpInputError(f"OCRA suite {text!r} needs one question QFxx with xx in 04..64")
    options = _parse_options(text, fields[1:])
    return OcraSuite(
        text=text,
        algorithm=f"sha{crypto.group(1)}",
        digits=digits,
        counter=counter,
        question_format=QuestionFormat(question.group(1)),
        question_length=int(question.group(2)),
        pin_algorithm=options.get("P"),
        session_length=int(options["S"]) if "S" in options else None,
        time_step=int(options["T"]) if "T" in options else None,
    )


def _parse_options(text: str, fields: list[str]) -> dict[str, str]:
    """The optional ``[-PH][-Snnn][-TG]`` inputs, each at most once and in RFC order."""
    found: dict[str, str] = {}
    order = "PST"
    for field in fields:
        kind = field[:1]
        if not kind or kind not in order or any(k in found for k in order[order.index(kind) :]):
            raise OtpInputError(f"unexpected or misplaced data input {field!r} in {text!r}")
        if kind == "P" and (pin := _PIN_RE.fullmatch(field)):
            found["P"] = f"sha{pin.group(1)}"
        elif kind == "S" and (session := _SESSION_RE.fullmatch(field)):
            if not 1 <= int(session.group(1)) <= 512:
                raise OtpInputError(f"session length must be 001..512 in {text!r}")
            found["S"] = session.group(1)
        elif kind == "T" and (time := _TIME_RE.fullmatch(field)):
            seconds, most = _TIME_UNITS[time.group(2)]
            if not 1 <= int(time.group(1)) <= most:
                raise OtpInputError(f"time step {field!r} is out of range in {text!r}")
            found["T"] = str(int(time.group(1)) * seconds)
        else:
            raise OtpInputError(f"malformed data input {field!r} in {text!r}")
    return found


def _as_suite(suite: OcraSuite | str) -> OcraSuite:
    return suite if isinstance(suite, OcraSuite) else parse_ocra_suite(suite)


_QUESTION_CHARS = {
    QuestionFormat.NUMERIC: re.compile(r"[0-9]+"),
    QuestionFormat.ALPHANUMERIC: re.compile(r"[\x20-\x7e]+"),  # printable ASCII
    QuestionFormat.HEX: re.compile(r"[0-9A-Fa-f]+"),
}


def _question_bytes(suite: OcraSuite, question: str, *, mutual: bool) -> bytes:
    """RFC 6287 §5.2 Q: the challenge, formatted and padded to 128 bytes."""
    longest = suite.question_length * (2 if mutual else 1)
    fmt = suite.question_format
    if not _QUESTION_CHARS[fmt].fullmatch(question) or len(question) > longest:
        raise OtpInputError(
            f"question {question!r} does not match Q{fmt}{suite.question_length:02d}"
            f" (format {fmt.name.lower()}, at most {longest} characters)"
        )
    if fmt is QuestionFormat.ALPHANUMERIC:
        return question.encode("ascii").ljust(_QUESTION_BYTES, b"\x00")
    nibbles = format(int(question), "X") if fmt is QuestionFormat.NUMERIC else question
    return bytes.fromhex(nibbles.ljust(2 * _QUESTION_BYTES, "0"))


def ocra_pin_hash(suite: OcraSuite | str, pin: str) -> bytes:
    """The P input: the PIN hashed with the suite's PH algorithm (RFC 6287 §5.1)."""
    parsed = _as_suite(suite)
    if parsed.pin_algorithm is None:
        raise OtpInputError(f"OCRA suite {parsed.text!r} takes no PIN")
    if not pin:
        raise OtpInputError("the OCRA PIN is empty")
    return hashlib.new(parsed.pin_algorithm, pin.encode("utf-8")).digest()


def ocra_timestamp(suite: OcraSuite | str, *, at: int | float) -> int:
    """The T input: whole time steps of the suite's TG since the unix epoch at ``at``."""
    parsed = _as_suite(suite)
    if parsed.time_step is None:
        raise OtpInputError(f"OCRA suite {parsed.text!r} takes no timestamp")
    return totp_counter(at, parsed.time_step)


def _check_presence(suite: OcraSuite, name: str, *, wanted: bool, given: bool) -> None:
    if wanted and not given:
        raise OtpInputError(f"OCRA suite {suite.text!r} needs a {name}")
    if given and not wanted:
        raise OtpInputError(f"OCRA suite {suite.text!r} takes no {name}")


def _pin_input(suite: OcraSuite, pin: str | None, pin_hash: bytes | None) -> bytes:
    given = pin is not None or pin_hash is not None
    _check_presence(suite, "PIN", wanted=suite.pin_algorithm is not None, given=given)
    if suite.pin_algorithm is None:
        return b""
    if pin is not None and pin_hash is not None:
        raise OtpInputError("give either pin or pin_hash, not both")
    if pin_hash is None:
        return ocra_pin_hash(suite, pin or "")
    if len(pin_hash) != _ALGORITHMS[suite.pin_algorithm]:
        raise OtpInputError(f"pin_hash must be {_ALGORITHMS[suite.pin_algorithm]} bytes")
    return pin_hash


def _uint64_input(suite: OcraSuite, name: str, value: int | None, *, wanted: bool) -> bytes:
    _check_presence(suite, name, wanted=wanted, given=value is not None)
    if value is None:
        return b""
    if not 0 <= value <= _MAX_COUNTER:
        raise OtpInputError(f"OCRA {name} {value} is outside 0..2^64-1")
    return struct.pack(">Q", value)


def _session_input(suite: OcraSuite, session: bytes | None) -> bytes:
    wanted = suite.session_length is not None
    _check_presence(suite, "session information", wanted=wanted, given=session is not None)
    if session is not None and len(session) != suite.session_length:
        raise OtpInputError(f"OCRA suite {suite.text!r} needs {suite.session_length} session bytes")
    return session or b""


def ocra_data_input(
    suite: OcraSuite | str,
    *,
    question: str,
    counter: int | None = None,
    pin: str | None = None,
    pin_hash: bytes | None = None,
    session: bytes | None = None,
    timestamp: int | None = None,
    mutual: bool = False,
) -> bytes:
    """The HMAC message ``suite | 0x00 | [C] | Q | [P] | [S] | [T]`` (RFC 6287 §5.2)."""
    parsed = _as_suite(suite)
    return b"".join(
        (
            parsed.text.encode("ascii"),
            b"\x00",
            _uint64_input(parsed, "counter", counter, wanted=parsed.counter),
            _question_bytes(parsed, question, mutual=mutual),
            _pin_input(parsed, pin, pin_hash),
            _session_input(parsed, session),
            _uint64_input(parsed, "timestamp", timestamp, wanted=parsed.time_step is not None),
        )
    )


def ocra(
    suite: OcraSuite | str,
    key: bytes,
    *,
    question: str,
    counter: int | None = None,
    pin: str | None = None,
    pin_hash: bytes | None = None,
    session: bytes | None = None,
    timestamp: int | None = None,
    mutual: bool = False,
) -> str:
    """RFC 6287 OCRA response to ``question``.

    ``timestamp`` counts the suite's time steps (see ``ocra_timestamp``).  ``mutual``
    marks an RFC 6287 §7.3 mutual challenge-response question, the concatenation of two
    challenges, so it may be up to twice the suite's QFxx length.
    """
    parsed = _as_suite(suite)
    _check_key(key)
    message = ocra_data_input(
        parsed,
        question=question,
        counter=counter,
        pin=pin,
        pin_hash=pin_hash,
        session=session,
        timestamp=timestamp,
        mutual=mutual,
    )
    return _truncate(hmac.new(key, message, parsed.algorithm).digest(), parsed.digits)


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two codes without leaking where they differ (timing side channel)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
