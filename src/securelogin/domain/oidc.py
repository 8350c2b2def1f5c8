"""OpenID Connect rules that need no I/O (issue 16 §1, SPEC §10.2a).

- ``acr`` is ``urn:securelogin:tier:N``, N the rank of the device that authenticated
  (SPEC §2; 0 for a password-only login); ``amr`` uses the RFC 8176 registry.
- The authorization request is checked as OpenID Connect Core 1.0 §3.1.2.1 and RFC 7636
  (PKCE) say, with two stricter choices: ``code_challenge_method`` must be ``S256`` for
  every client, and ``redirect_uri`` must equal a registered one exactly.
- Step-up: ``acr_values`` (or an essential ``acr`` in ``claims``, Core §5.5.1.1) names the
  tiers the relying party accepts; the lowest rank among them is what the login must reach.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from securelogin.domain.devices.catalogue import DeviceKind, KindInfo

ACR_PREFIX = "urn:securelogin:tier:"
MAX_RANK = 4
#: ``self_service``: the access token may drive the JSON API's self-service calls
#: (issue 16 §3) for its user, as the user's own session token does
SELF_SERVICE = "self_service"
SCOPES = ("openid", "profile", SELF_SERVICE)
#: RFC 7636 §4.1: 43–128 characters of the unreserved set
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_PARAM_MAX = 2048

#: RFC 8176 methods each device kind adds to ``pwd`` (SPEC §2 "How it answers")
AMR_OF_KIND: Mapping[DeviceKind, tuple[str, ...]] = {
    DeviceKind.TEMPORARY_CODE: ("otp",),
    DeviceKind.SMS: ("sms", "otp"),
    DeviceKind.CODE_CARD: ("otp",),
    DeviceKind.ONLINE_CODE_CARD: ("otp",),
    DeviceKind.MOBILE_KEY: ("swk", "user", "pin"),
    DeviceKind.DSC: ("hwk", "otp", "pin"),
    DeviceKind.DSC_PLUS: ("hwk", "otp", "pin"),
    DeviceKind.PLATINUM_CARD: ("hwk", "otp"),
    DeviceKind.GOLD_CARD: ("hwk", "otp"),
    DeviceKind.TOTP_APP: ("swk", "otp"),
    DeviceKind.PASSKEY: ("hwk", "user", "pin"),
}


def acr_for(rank: int) -> str:
    return f"{ACR_PREFIX}{rank}"


def rank_of(acr: str) -> int | None:
    """The rank an ``acr`` value names, None for a value this provider does not define."""
    if not acr.startswith(ACR_PREFIX):
        return None
    digits = acr.removeprefix(ACR_PREFIX)
    if not digits.isdigit() or len(digits) != 1 or int(digits) > MAX_RANK:
        return None
    return int(digits)


def supported_acr_values() -> list[str]:
    return [acr_for(rank) for rank in range(MAX_RANK + 1)]


def amr_for(device_kind: DeviceKind | None) -> list[str]:
    """RFC 8176: ``pwd`` always, the device's methods and ``mfa`` when one answered."""
    if device_kind is None:
        return ["pwd"]
    return ["pwd", *AMR_OF_KIND.get(device_kind, ()), "mfa"]


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2, S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(*, verifier: str | None, expected_challenge: str) -> bool:
    """RFC 7636 §4.6: the verifier's S256 equals the stored challenge (constant time)."""
    if verifier is None or not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(pkce_challenge(verifier), expected_challenge)


def rank_needed(amount: Decimal, catalogue: Mapping[DeviceKind, KindInfo]) -> int:
    """The lowest rank whose daily and 5-day limits both allow ``amount`` (R-LIMIT-1/3/4):
    what a withdrawal asks of a bearer token's ``acr`` (RFC 9470)."""
    ranks = sorted({info.rank for info in catalogue.values()})
    for rank in ranks:
        infos = [info for info in catalogue.values() if info.rank == rank]
        if any(_allows(info, amount) for info in infos):
            return rank
    return ranks[-1] if ranks else MAX_RANK


def _allows(info: KindInfo, amount: Decimal) -> bool:
    return all(
        limit is None or amount <= limit for limit in (info.daily_limit, info.five_day_limit)
    )


class AuthorizationRefused(ValueError):
    """An authorization request the provider answers with an error redirect (Core
    §3.1.2.6): ``error`` is the registered code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    state: str | None
    nonce: str | None
    scope: tuple[str, ...]
    code_challenge: str
    #: the lowest rank the login must reach (0: any login)
    min_rank: int
    #: ``acr`` was asked as an essential claim (Core §5.5.1.1)
    acr_essential: bool
    prompt: tuple[str, ...]
    max_age: int | None

    def as_json(self) -> str:
        return json.dumps(
            {
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "state": self.state,
                "nonce": self.nonce,
                "scope": list(self.scope),
                "code_challenge": self.code_challenge,
                "min_rank": self.min_rank,
                "acr_essential": self.acr_essential,
                "prompt": list(self.prompt),
                "max_age": self.max_age,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AuthorizationRequest:
        data = json.loads(text)
        return cls(
            client_id=data["client_id"],
            redirect_uri=data["redirect_uri"],
            state=data["state"],
            nonce=data["nonce"],
            scope=tuple(data["scope"]),
            code_challenge=data["code_challenge"],
            min_rank=int(data["min_rank"]),
            acr_essential=bool(data["acr_essential"]),
            prompt=tuple(data["prompt"]),
            max_age=data["max_age"],
        )


def parse_authorization(
    params: Mapping[str, str], *, client_id: str, redirect_uri: str
) -> AuthorizationRequest:
    """The rest of the request, once client and redirect URI are known good (they decide
    where an error may be sent).  Raises :class:`AuthorizationRefused`."""
    for name, value in params.items():
        if len(value) > _PARAM_MAX:
            raise AuthorizationRefused("invalid_request", f"{name} is too long")
    if "request" in params or "request_uri" in params:
        raise AuthorizationRefused("request_not_supported", "request objects are not supported")
    if params.get("response_type") != "code":
        raise AuthorizationRefused(
            "unsupported_response_type", "only response_type=code is supported"
        )
    scope = tuple(params.get("scope", "").split())
    if "openid" not in scope:
        raise AuthorizationRefused("invalid_scope", "scope must include openid")
    challenge = params.get("code_challenge", "")
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
        raise AuthorizationRefused(
            "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"
        )
    prompt = tuple(params.get("prompt", "").split())
    if "none" in prompt and len(prompt) > 1:
        raise AuthorizationRefused("invalid_request", "prompt=none cannot be combined")
    max_age = _max_age(params.get("max_age"))
    ranks, essential = _requested_acr(params)
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=params.get("state"),
        nonce=params.get("nonce"),
        scope=tuple(s for s in scope if s in SCOPES),
        code_challenge=challenge,
        min_rank=min(ranks) if ranks else 0,
        acr_essential=essential,
        prompt=prompt,
        max_age=max_age,
    )


def _max_age(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise AuthorizationRefused("invalid_request", "max_age must be a number of seconds")
    return int(raw)


def _requested_acr(params: Mapping[str, str]) -> tuple[list[int], bool]:
    """Ranks named by ``acr_values`` and by ``claims.id_token.acr`` (``value``/``values``);
    an essential ``acr`` naming no tier of ours cannot be met at all."""
    named = params.get("acr_values", "").split()
    essential = False
    raw_claims = params.get("claims")
    if raw_claims:
        try:
            claims = json.loads(raw_claims)
        except ValueError:
            raise AuthorizationRefused("invalid_request", "claims is not JSON") from None
        acr = (claims.get("id_token") or {}).get("acr") if isinstance(claims, dict) else None
        if isinstance(acr, dict):
            essential = acr.get("essential") is True
            values = acr.get("values") or ([acr["value"]] if "value" in acr else [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise AuthorizationRefused("invalid_request", "claims.id_token.acr is malformed")
            named = [*named, *values]
    ranks = [rank for rank in (rank_of(v) for v in named) if rank is not None]
    if essential and named and not ranks:
        raise AuthorizationRefused(
            "unmet_authentication_requirements", "no acr value asked for is supported"
        )
    return ranks, essential


def redirect_uri_allowed(candidate: str, registered: Sequence[str]) -> bool:
    """Exact string comparison (OAuth 2.0 Security BCP §4.1.3), each in constant time."""
    found = False
    for uri in registered:
        found |= hmac.compare_digest(candidate.encode(), uri.encode())
    return found
