"""The OpenID Connect provider's pure rules (issue 16 §1): tiers as ``acr``, RFC 8176
``amr``, RFC 7636 PKCE (its Appendix B vector), the authorization request's checks and
the tier an amount needs (RFC 9470 for withdrawals)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from securelogin.domain.devices.catalogue import DEFAULT_CATALOGUE, DeviceKind
from securelogin.domain.oidc import (
    AuthorizationRefused,
    AuthorizationRequest,
    acr_for,
    amr_for,
    parse_authorization,
    pkce_challenge,
    pkce_matches,
    rank_needed,
    rank_of,
    redirect_uri_allowed,
)

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
BASE = {
    "response_type": "code",
    "scope": "openid profile",
    "code_challenge": CHALLENGE,
    "code_challenge_method": "S256",
    "state": "s",
    "nonce": "n",
}


def parse(**extra: str) -> AuthorizationRequest:
    return parse_authorization(BASE | extra, client_id="c", redirect_uri="https://rp/cb")


def test_SPEC_10_2a_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce_challenge(VERIFIER) == CHALLENGE
    assert pkce_matches(verifier=VERIFIER, expected_challenge=CHALLENGE)
    assert not pkce_matches(verifier=VERIFIER[:-1] + "l", expected_challenge=CHALLENGE)
    assert not pkce_matches(verifier=None, expected_challenge=CHALLENGE)
    assert not pkce_matches(verifier="short", expected_challenge=pkce_challenge("short"))


def test_SPEC_10_2a_acr_names_the_rank_and_nothing_else() -> None:
    assert [acr_for(n) for n in (0, 4)] == ["urn:securelogin:tier:0", "urn:securelogin:tier:4"]
    assert rank_of("urn:securelogin:tier:3") == 3
    for other in ("urn:securelogin:tier:5", "urn:securelogin:tier:04", "tier:1", "urn:x:1"):
        assert rank_of(other) is None


def test_SPEC_10_2a_amr_uses_rfc_8176_values() -> None:
    assert amr_for(None) == ["pwd"]
    assert amr_for(DeviceKind.DSC_PLUS) == ["pwd", "hwk", "otp", "pin", "mfa"]
    assert amr_for(DeviceKind.SMS) == ["pwd", "sms", "otp", "mfa"]
    registered = {"face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin"} | {
        "pop", "pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"
    }  # fmt: skip
    for kind in DeviceKind:
        assert set(amr_for(kind)) <= registered


@pytest.mark.parametrize(
    ("amount", "rank"),
    [("50000", 0), ("50000.01", 1), ("200000", 1), ("200001", 2), ("1000000", 2), ("1000001", 4)],
)
def test_SPEC_10_2a_the_tier_an_amount_needs_is_the_lowest_whose_limits_allow_it(
    amount: str, rank: int
) -> None:
    assert rank_needed(Decimal(amount), DEFAULT_CATALOGUE) == rank


def test_SPEC_10_2a_step_up_is_read_from_acr_values_and_essential_claims() -> None:
    assert parse().min_rank == 0
    assert parse(acr_values="urn:securelogin:tier:4").min_rank == 4
    assert parse(acr_values="urn:other urn:securelogin:tier:3 urn:securelogin:tier:4").min_rank == 3
    claims = {"id_token": {"acr": {"essential": True, "value": "urn:securelogin:tier:2"}}}
    asked = parse(claims=json.dumps(claims))
    assert asked.min_rank == 2 and asked.acr_essential
    foreign = {"id_token": {"acr": {"essential": True, "values": ["urn:other:gold"]}}}
    with pytest.raises(AuthorizationRefused) as refused:
        parse(claims=json.dumps(foreign))
    assert refused.value.error == "unmet_authentication_requirements"
    assert AuthorizationRequest.from_json(asked.as_json()) == asked


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"state": "x" * 3000}, "invalid_request"),
    ],
)
def test_SPEC_10_2a_a_malformed_authorization_request_gets_its_registered_error(
    extra: dict[str, str], error: str
) -> None:
    with pytest.raises(AuthorizationRefused) as refused:
        parse(**extra)
    assert refused.value.error == error


def test_SPEC_10_2a_redirect_uris_match_exactly() -> None:
    registered = ("https://rp.example/cb",)
    assert redirect_uri_allowed("https://rp.example/cb", registered)
    for near in ("https://rp.example/cb/", "https://rp.example/CB", "https://rp.example/cb?x"):
        assert not redirect_uri_allowed(near, registered)
