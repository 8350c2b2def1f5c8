"""Discovery (OpenID Connect Discovery 1.0 §3) and the JWKS (RFC 7517 §5)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from securelogin.domain.oidc import SCOPES, supported_acr_values
from securelogin.entrypoints.oidc.common import issuer_of
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.service.oidc import keys

CLAIMS = (
    *("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"),
    *("acr", "amr", "azp", "sid", "preferred_username"),
)
router = APIRouter(tags=["openid-connect"])


class Discovery(BaseModel):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    end_session_endpoint: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    claims_supported: list[str]
    claims_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool
    acr_values_supported: list[str]
    prompt_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    backchannel_logout_supported: bool
    backchannel_logout_session_supported: bool


@router.get("/.well-known/openid-configuration", response_model=Discovery)
def discovery(request: Request) -> Discovery:
    """OpenID Connect Discovery 1.0 §3: exactly what this provider does."""
    base = issuer_of(request)
    return Discovery(
        issuer=base,
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        userinfo_endpoint=f"{base}/oauth/userinfo",
        jwks_uri=f"{base}/oauth/jwks",
        revocation_endpoint=f"{base}/oauth/revoke",
        introspection_endpoint=f"{base}/oauth/introspect",
        end_session_endpoint=f"{base}/oauth/logout",
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        scopes_supported=list(SCOPES),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        introspection_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
        ],
        code_challenge_methods_supported=["S256"],
        claims_supported=list(CLAIMS),
        claims_parameter_supported=True,
        request_parameter_supported=False,
        request_uri_parameter_supported=False,
        acr_values_supported=supported_acr_values(),
        prompt_values_supported=["none", "login"],
        authorization_response_iss_parameter_supported=True,
        backchannel_logout_supported=True,
        backchannel_logout_session_supported=True,
    )


class JwkSet(BaseModel):
    keys: list[dict[str, str]]


@router.get("/oauth/jwks", response_model=JwkSet)
def jwks(services: ServicesDep) -> JwkSet:
    """RFC 7517 §5: the signing key and the retired keys still within their overlap."""
    published = keys.published(services)
    return JwkSet(keys=[{k: str(v) for k, v in key.items()} for key in published])
