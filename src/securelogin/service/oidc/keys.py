"""The provider's signing keys (issue 16 §1): RSA keys made by the JOSE library, private
halves sealed with the secret box (context ``oidc-key:KID``, so a blob copied to another
row does not open), rotated on a schedule with overlap — a retired key stays in the JWKS
for ``key_overlap_seconds`` so that tokens it signed still verify."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from securelogin.domain.audit import AuditEvent
from securelogin.service.context import Services
from securelogin.service.oidc.clients import ports
from securelogin.service.oidc_ports import JsonObject, KeyRow
from securelogin.service.ports import UnitOfWork


def _context(kid: str) -> str:
    return f"oidc-key:{kid}"


def _due(key: KeyRow | None, now: datetime, rotation_seconds: int) -> bool:
    return key is None or now >= key.created_at + timedelta(seconds=rotation_seconds)


def _current(keys: list[KeyRow]) -> KeyRow | None:
    return next((k for k in keys if k.retired_at is None), None)


def _rotate(services: Services, uow: UnitOfWork, now: datetime) -> KeyRow:
    """A new signing key; the previous one retires; keys past their overlap are dropped."""
    policy = ports(services).policy
    raw = services.random.token_bytes(12)
    kid = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    made = ports(services).jose.new_key(kid)
    for old in uow.oidc.signing_keys():
        if old.retired_at is None:
            uow.oidc.retire_key(old.kid, now=now)
        elif now >= old.retired_at + timedelta(seconds=policy.key_overlap_seconds):
            uow.oidc.drop_key(old.kid)
    row = KeyRow(
        kid=kid,
        sealed_private=services.box.seal(made.private_pem, context=_context(kid)),
        public_jwk=made.public_jwk,
        created_at=now,
        retired_at=None,
    )
    uow.oidc.add_key(row)
    uow.audit.record(AuditEvent(action="oidc.key_rotated", actor="system", subject=kid))
    return row


def signing_key(services: Services) -> KeyRow:
    """The key that signs now, made or rotated first when it is due."""
    now = services.clock.now()
    rotation = ports(services).policy.key_rotation_seconds
    with services.uow() as uow:
        current = _current(uow.oidc.signing_keys())
        if not _due(current, now, rotation):
            assert current is not None  # noqa: S101 - _due says so
            return current
        uow.oidc.lock_keys()
        current = _current(uow.oidc.signing_keys())  # another process may have rotated meanwhile
        if _due(current, now, rotation):
            current = _rotate(services, uow, now)
            uow.commit()
        assert current is not None  # noqa: S101 - made just above when missing
        return current


def rotate(services: Services) -> str:
    """``securelogin admin oidc-key rotate``: a new signing key now; the kid."""
    with services.uow() as uow:
        uow.oidc.lock_keys()
        row = _rotate(services, uow, services.clock.now())
        uow.commit()
    return row.kid


def published(services: Services) -> list[JsonObject]:
    """RFC 7517 §5: the signing key and every retired key still inside its overlap."""
    signing_key(services)
    now = services.clock.now()
    overlap = timedelta(seconds=ports(services).policy.key_overlap_seconds)
    with services.uow() as uow:
        keys = uow.oidc.signing_keys()
    return [
        dict(k.public_jwk) for k in keys if k.retired_at is None or now < k.retired_at + overlap
    ]


def sign(services: Services, claims: JsonObject, *, typ: str = "JWT") -> str:
    key = signing_key(services)
    private = services.box.open(key.sealed_private, context=_context(key.kid))
    return ports(services).jose.sign(claims, private_pem=private, kid=key.kid, typ=typ)


def verify_own(services: Services, token: str) -> JsonObject:
    """Claims of a JWT this provider signed with a published key; ValueError otherwise."""
    return ports(services).jose.verify(token, public_jwks=published(services))


def sign_with(services: Services, key: KeyRow, claims: JsonObject, *, typ: str = "JWT") -> str:
    """Sign with a key fetched earlier (:func:`signing_key`), e.g. before a unit of work
    that must not wait for another one."""
    private = services.box.open(key.sealed_private, context=_context(key.kid))
    return ports(services).jose.sign(claims, private_pem=private, kid=key.kid, typ=typ)
