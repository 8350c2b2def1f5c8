"""The OTP maths against every official vector of RFC 4226, RFC 6238 and RFC 6287 (SPEC §2).

tests/data/vectors.json holds the vectors and their byte conventions; mutual
challenge-response vectors (RFC 6287 §7.3) carry a ``role`` and a question that is the
concatenation of two challenges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from securelogin.domain.otp import (
    OcraSuite,
    OtpInputError,
    QuestionFormat,
    constant_time_equal,
    hotp,
    ocra,
    ocra_data_input,
    ocra_pin_hash,
    ocra_timestamp,
    parse_ocra_suite,
    totp,
    totp_counter,
)

VECTORS_PATH = Path(__file__).parents[1] / "data" / "vectors.json"
DOCUMENT: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DOCUMENT["vectors"]
KEY_20 = b"12345678901234567890"


def _ocra_kwargs(vector: dict[str, Any]) -> dict[str, Any]:
    inputs = vector["inputs"]
    timestamp_hex = inputs.get("timestamp_hex")
    return {
        "question": inputs["question"],
        "counter": inputs.get("counter"),
        "pin": inputs.get("pin"),
        "timestamp": int(timestamp_hex, 16) if timestamp_hex else None,
        "mutual": "role" in vector,
    }


def _compute(vector: dict[str, Any]) -> str:
    key = bytes.fromhex(vector["key_hex"])
    inputs = vector["inputs"]
    if vector["type"] == "HOTP":
        _, algorithm, digits = vector["suite"].split("-")
        return hotp(key, inputs["counter"], digits=int(digits), algorithm=algorithm)
    if vector["type"] == "TOTP":
        return totp(
            key,
            at=inputs["unix_time"],
            step=inputs["step_seconds"],
            t0=inputs["t0"],
            digits=inputs["digits"],
            algorithm=inputs["algorithm"],
        )
    assert vector["type"] == "OCRA"
    return ocra(vector["suite"], key, **_ocra_kwargs(vector))


def test_the_vector_file_holds_all_98_rfc_vectors() -> None:
    assert len(VECTORS) == 98
    assert DOCUMENT["count"] == 98
    assert len({vector["id"] for vector in VECTORS}) == 98


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["id"] for vector in VECTORS])
def test_every_rfc_vector_gives_the_expected_code(vector: dict[str, Any]) -> None:
    assert _compute(vector) == vector["expected"]


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if "data_input_hex" in v],
    ids=[v["id"] for v in VECTORS if "data_input_hex" in v],
)
def test_ocra_data_input_matches_the_recorded_bytes(vector: dict[str, Any]) -> None:
    message = ocra_data_input(vector["suite"], **_ocra_kwargs(vector))
    assert message.hex() == vector["data_input_hex"]


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v["type"] == "TOTP"],
    ids=[v["id"] for v in VECTORS if v["type"] == "TOTP"],
)
def test_totp_time_step_matches_the_rfc_table(vector: dict[str, Any]) -> None:
    inputs = vector["inputs"]
    assert totp_counter(inputs["unix_time"]) == int(inputs["T_hex"], 16)


def test_hotp_intermediate_values_of_rfc_4226_appendix_d() -> None:
    vector = VECTORS[0]
    assert vector["intermediate"]["truncated_dec"] % 10**6 == int(hotp(KEY_20, 0))


def test_oathtool_style_totp_at_59_seconds_gives_94287082() -> None:
    assert totp(KEY_20, at=59, digits=8) == "94287082"
    assert totp(KEY_20, at=59.999, digits=8) == "94287082"


def test_ocra_pin_hash_is_sha1_of_the_pin() -> None:
    pin_hash = ocra_pin_hash("OCRA-1:HOTP-SHA256-8:QN06-PSHA1", "1234")
    assert pin_hash.hex() == DOCUMENT["keys"]["pin_1234_sha1"]


def test_ocra_accepts_a_precomputed_pin_hash() -> None:
    suite = "OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
    key = KEY_20 + b"123456789012"
    by_pin = ocra(suite, key, question="123456", pin="1234")
    by_hash = ocra(suite, key, question="123456", pin_hash=ocra_pin_hash(suite, "1234"))
    assert by_pin == by_hash
    assert ocra(suite, key, question="123456", pin="1235") != by_pin


def test_spec_suites_parse_into_their_parts() -> None:
    dsc_plus = parse_ocra_suite("OCRA-1:HOTP-SHA256-8:QN06-PSHA1")
    assert dsc_plus == OcraSuite(
        text="OCRA-1:HOTP-SHA256-8:QN06-PSHA1",
        algorithm="sha256",
        digits=8,
        counter=False,
        question_format=QuestionFormat.NUMERIC,
        question_length=6,
        pin_algorithm="sha1",
    )
    full = parse_ocra_suite("OCRA-1:HOTP-SHA512-0:C-QH40-PSHA256-S064-T2H")
    assert (full.counter, full.question_format, full.pin_algorithm) == (True, "H", "sha256")
    assert (full.session_length, full.time_step, full.digits) == (64, 7200, 0)
    assert str(full) == full.text


def test_ocra_with_zero_digits_returns_the_whole_hmac_in_hex() -> None:
    response = ocra("OCRA-1:HOTP-SHA256-0:QH08", KEY_20, question="DEADBEEF")
    assert len(response) == 64
    int(response, 16)


def test_ocra_session_and_time_inputs_are_used() -> None:
    suite = parse_ocra_suite("OCRA-1:HOTP-SHA1-8:QA08-S064-T1M")
    steps = ocra_timestamp(suite, at=1_206_446_790)
    assert steps == 0x132D0B6
    session = bytes(range(64))
    first = ocra(suite, KEY_20, question="SIG10000", session=session, timestamp=steps)
    other = ocra(suite, KEY_20, question="SIG10000", session=session[::-1], timestamp=steps)
    assert first != other


@pytest.mark.parametrize(
    "suite",
    [
        "",
        "OCRA-2:HOTP-SHA1-6:QN08",
        "OCRA-1:HOTP-MD5-6:QN08",
        "OCRA-1:HOTP-SHA1-3:QN08",
        "OCRA-1:HOTP-SHA1-11:QN08",
        "OCRA-1:HOTP-SHA1-6:",
        "OCRA-1:HOTP-SHA1-6:C",
        "OCRA-1:HOTP-SHA1-6:QX08",
        "OCRA-1:HOTP-SHA1-6:QN03",
        "OCRA-1:HOTP-SHA1-6:QN65",
        "OCRA-1:HOTP-SHA1-6:QN08-",
        "OCRA-1:HOTP-SHA1-6:QN08-PMD5",
        "OCRA-1:HOTP-SHA1-6:QN08-S000",
        "OCRA-1:HOTP-SHA1-6:QN08-T60S",
        "OCRA-1:HOTP-SHA1-6:QN08-T49H",
        "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
        "OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1",
        "OCRA-1:HOTP-SHA1-6:QN08-C",
        "OCRA-1:HOTP-SHA1-6:QN08:extra",
    ],
)
def test_malformed_ocra_suites_are_refused(suite: str) -> None:
    with pytest.raises(OtpInputError):
        parse_ocra_suite(suite)


@pytest.mark.parametrize(
    ("suite", "question"),
    [
        ("OCRA-1:HOTP-SHA1-6:QN08", "1234567a"),
        ("OCRA-1:HOTP-SHA1-6:QN08", "123456789"),
        ("OCRA-1:HOTP-SHA1-6:QN08", ""),
        ("OCRA-1:HOTP-SHA1-6:QN08", "１２３４"),  # full-width digits are not [0-9]
        ("OCRA-1:HOTP-SHA256-8:QN06-PSHA1", "1234567"),
        ("OCRA-1:HOTP-SHA1-6:QH08", "0123456G"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "SIG10000X"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "SIG1000\n"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "CLI22220SRV11110"),  # two challenges, not mutual
    ],
)
def test_questions_outside_the_suite_format_are_refused(suite: str, question: str) -> None:
    with pytest.raises(OtpInputError, match="does not match"):
        ocra(suite, KEY_20, question=question, pin="1234" if "PSHA1" in suite else None)


@pytest.mark.parametrize(
    ("suite", "extra", "message"),
    [
        ("OCRA-1:HOTP-SHA512-8:C-QN08", {}, "needs a counter"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"counter": 1}, "takes no counter"),
        ("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", {}, "needs a PIN"),
        ("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", {"pin": "1", "pin_hash": b"x" * 20}, "not both"),
        ("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", {"pin_hash": b"x" * 19}, "must be 20 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"pin": "1234"}, "takes no PIN"),
        ("OCRA-1:HOTP-SHA512-8:QN08-T1M", {}, "needs a timestamp"),
        ("OCRA-1:HOTP-SHA512-8:QN08-T1M", {"timestamp": -1}, "outside"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S064", {"session": b"s" * 63}, "needs 64 session bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S064", {}, "needs a session"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"session": b"s"}, "takes no session"),
    ],
)
def test_missing_or_unexpected_ocra_inputs_are_refused(
    suite: str, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(OtpInputError, match=message):
        ocra(suite, KEY_20, question="12345678", **extra)


@pytest.mark.parametrize(
    "call",
    [
        lambda: hotp(b"", 0),
        lambda: hotp(KEY_20, -1),
        lambda: hotp(KEY_20, 2**64),
        lambda: hotp(KEY_20, 0, digits=5),
        lambda: hotp(KEY_20, 0, algorithm="md5"),
        lambda: totp(KEY_20, at=-1),
        lambda: totp(KEY_20, at=float("nan")),
        lambda: totp(KEY_20, at=59, step=0),
        lambda: ocra_pin_hash("OCRA-1:HOTP-SHA1-6:QN08", "1234"),
        lambda: ocra_timestamp("OCRA-1:HOTP-SHA1-6:QN08", at=0),
    ],
)
def test_malformed_hotp_and_totp_inputs_raise(call: Any) -> None:
    with pytest.raises(OtpInputError):
        call()


def test_otp_input_error_is_a_value_error() -> None:
    assert issubclass(OtpInputError, ValueError)


def test_constant_time_equal_compares_whole_codes() -> None:
    assert constant_time_equal("94287082", "94287082")
    assert not constant_time_equal("94287082", "94287083")
    assert not constant_time_equal("9428708", "94287082")
