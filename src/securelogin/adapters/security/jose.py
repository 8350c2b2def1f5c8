"""JOSE for the OpenID Connect provider through joserfc (RFC 7515/7517/7518/7519): RSA
signing keys, RS256 signatures (OpenID Connect Core §15.1 makes RS256 mandatory), and
verification against a JWK set."""

from __future__ import annotations

from typing import cast

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from securelogin.service.oidc_ports import JsonObject, NewKey

ALGORITHM = "RS256"
RSA_BITS = 2048


class JoserfcJose:
    def new_key(self, kid: str) -> NewKey:
        key = RSAKey.generate_key(
            RSA_BITS, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
        )
        public = cast(JsonObject, dict(key.as_dict(private=False)))
        return NewKey(private_pem=key.as_pem(private=True), public_jwk=public)

    def sign(self, claims: JsonObject, *, private_pem: bytes, kid: str, typ: str) -> str:
        key = RSAKey.import_key(private_pem, parameters={"kid": kid})
        return jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": typ}, claims, key)

    def verify(self, token: str, *, public_jwks: list[JsonObject]) -> JsonObject:
        try:
            keys = KeySet.import_key_set({"keys": public_jwks})  # type: ignore[typeddict-item]
            found = jwt.decode(token, keys, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError(f"token not verified: {exc}") from None
        return cast(JsonObject, dict(found.claims))
