"""The pure rules of the mobile key: number choices, what is signed, the recovery PIN
(R-KEY-2), the fallback OCRA (R-KEY-5) and the server's push-signing key."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin.adapters.security.ecdsa import EcdsaPushCrypto
from securelogin.domain import otp
from securelogin.domain.devices.base import Binding, DeviceView, Keys, PromptType, WrongAnswer
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.challenges import bound_challenge
from securelogin.domain.devices.mobile_key import (
    check_phone_country,
    check_recovery_pin,
    check_webpush_subscription,
)
from securelogin.domain.devices.registry import MOBILE_KEY, MOBILE_KEY_SUITE, plugin_for
from securelogin.domain.push import canonical_json, choices, draw_number, fresh, request_string

VIEW = DeviceView(device_id="dev_1", kind=DeviceKind.MOBILE_KEY)


def test_R_KEY_4_the_choices_are_three_different_two_digit_numbers_one_on_the_screen() -> None:
    for _ in range(200):
        number = draw_number(secrets.randbelow)
        picked = choices(number, secrets.randbelow)
        assert number in picked and len(set(picked)) == 3
        assert all(len(c) == 2 and c.isdigit() and c[0] != "0" for c in picked)


def test_R_KEY_4_the_mobile_key_asks_for_a_push_and_binds_withdrawals() -> None:
    issued = plugin_for(DeviceKind.MOBILE_KEY).challenge(VIEW, draw=secrets.randbelow, binding=None)
    assert issued.prompt.type is PromptType.PUSH and issued.value is None
    binding = Binding(amount="10.00", destination="Bank ••••1", nonce=b"x" * 16)
    fallback = MOBILE_KEY.fallback(VIEW, draw=secrets.randbelow, binding=binding)
    assert fallback.value == bound_challenge(binding, 6)  # R-WD-4
    assert fallback.prompt.amount == "10.00"


def test_R_KEY_5_the_fallback_takes_the_8_digit_ocra_response_and_nothing_else() -> None:
    seed = secrets.token_bytes(32)
    question = "123456"
    right = otp.ocra(otp.parse_ocra_suite(MOBILE_KEY_SUITE), seed, question=question)
    at = datetime.now(UTC)
    MOBILE_KEY.verify(VIEW, Keys(seed=seed), expected_value=question, response=right, at=at)
    wrong = str((int(right) + 1) % 10**8).zfill(8)
    with pytest.raises(WrongAnswer):
        MOBILE_KEY.verify(VIEW, Keys(seed=seed), expected_value=question, response=wrong, at=at)


@pytest.mark.parametrize("pin", ["12", "1234567", "ab c", "пин1"])
def test_R_KEY_2_the_recovery_pin_has_4_to_6_plain_characters(pin: str) -> None:
    with pytest.raises(ValueError, match="4-6"):
        check_recovery_pin(pin, forbidden=[])


@pytest.mark.parametrize("pin", ["1980", "800102", "0089", "X123"])
def test_R_KEY_2_the_recovery_pin_is_not_the_birth_date_phone_or_id_number(pin: str) -> None:
    with pytest.raises(ValueError, match="birth date"):
        check_recovery_pin(pin, forbidden=["1980-01-02", "+15551230089", "X1234567"])


def test_R_KEY_2_letters_digits_and_specials_are_allowed() -> None:
    assert check_recovery_pin("k3y!", forbidden=["1980-01-02"]) == "k3y!"


def test_R_KEY_1_a_new_number_must_belong_to_its_country() -> None:
    assert check_phone_country("+4915112345678", "DE") == "+4915112345678"
    for phone, country in (("+4915112345678", "US"), ("4915112345678", "DE"), ("+49", "de")):
        with pytest.raises(ValueError):
            check_phone_country(phone, country)


def test_the_signed_strings_are_the_protocols() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    signed = request_string(method="get", path="/x?wait=1", timestamp="17", body=b"")
    assert signed.startswith(b"GET\n/x?wait=1\n17\ne3b0c442")
    now = datetime.fromtimestamp(1_000_000, UTC)
    assert fresh("1000120", now=now) and not fresh("1000121", now=now) and not fresh("-5", now=now)


def test_the_push_signing_key_follows_the_master_key_and_verifies() -> None:
    one, same, other = (EcdsaPushCrypto(k) for k in (b"a" * 32, b"a" * 32, b"b" * 32))
    assert one.server_public_key() == same.server_public_key() != other.server_public_key()
    signature = one.sign(b"push")
    der = base64.urlsafe_b64decode(one.server_public_key() + "==")
    public = serialization.load_der_public_key(der)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        b"push",
        ec.ECDSA(hashes.SHA256()),
    )
    assert one.verify(der, signature, b"push") and not one.verify(der, signature, b"pull")
    with pytest.raises(ValueError):
        one.load_public_key("AAAA")


def test_R_KEY_4_a_web_push_subscription_is_kept_in_one_form_https_unless_named() -> None:
    point = b"\x04" + secrets.token_bytes(64)
    keys = {"auth": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode(), "p256dh": ""}
    keys["p256dh"] = base64.urlsafe_b64encode(point).decode().rstrip("=")
    browser = {"expirationTime": None, "keys": keys, "endpoint": "https://push.example/wp/t"}
    kept = check_webpush_subscription(browser)
    auth, p256dh = keys["auth"], keys["p256dh"]  # padding as the browser sent it
    assert kept == (
        f'{{"endpoint":"https://push.example/wp/t","keys":{{"auth":"{auth}","p256dh":"{p256dh}"}}}}'
    )
    local = browser | {"endpoint": "http://127.0.0.1:8099/wp/t"}
    assert '"http://127.0.0.1:8099/wp/t"' in check_webpush_subscription(
        local, http_hosts={"127.0.0.1:8099"}
    )
    for hosts in ((), {"127.0.0.1:8098"}, {"127.0.0.1"}):
        with pytest.raises(ValueError, match="https"):
            check_webpush_subscription(local, http_hosts=hosts)
