"""Who is calling a self-service call of the JSON API (issue 16 §3): one dependency.

Every ``/api/v1/`` call that acts for a client as the Client Portal does (settings,
sharing, the lost-device story, returns, the message centre, documents) gets its caller
from :func:`client_session`, through the aliases at the bottom:

- the credential is ``Authorization: Bearer TOKEN``, declared to OpenAPI as the HTTP
  bearer scheme ``bearerAuth``: a session token of ``POST /api/v1/logins`` (``slt_…``),
  or an OpenID Connect access token (``slo_…``) whose scope includes ``self_service``,
  both checked by :func:`securelogin.service.oidc.bearer.authenticate` as the withdrawal
  calls check them (revoked, idle, expired, or the login behind the access token ended →
  401 ``unauthenticated``; an access token without the scope → 403 ``access_denied``);
- the session's access level must be one the portal shows the same page to (SPEC §1
  "Session"): most calls need ``full``; the online card also ``card_only`` (R-LOGIN-9);
  the message centre and documents also ``documents_only`` (R-LOGIN-8); any other level
  is 403 ``access_denied`` and nothing is done.

A session token is the user's own login and may do all the portal does; an application
holding an access token acts for the user only where the user granted it the
``self_service`` scope at sign-in (docs/integration.md).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from securelogin.domain.access import AccessLevel
from securelogin.domain.oidc import SELF_SERVICE
from securelogin.entrypoints.web.deps import ServicesDep
from securelogin.errors import AccessDenied, Unauthenticated
from securelogin.service.oidc import bearer
from securelogin.service.sessions import CurrentSession

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description=(
        "A session token from POST /api/v1/logins (Authorization: Bearer slt_…), or an "
        "OpenID Connect access token whose scope includes self_service (slo_…)"
    ),
)

FULL = frozenset({AccessLevel.FULL})
#: R-LOST-2 / R-LOGIN-9: after a temporary code's 2 days only the online card is left
CARD = frozenset({AccessLevel.FULL, AccessLevel.CARD_ONLY})
#: R-LOGIN-8: a closed account's users still read their messages and documents
READERS = frozenset({AccessLevel.FULL, AccessLevel.DOCUMENTS_ONLY})


class ClientAuth:
    """The dependency: the caller's session, when its access level is one of ``levels``."""

    def __init__(self, levels: Collection[AccessLevel]) -> None:
        self.levels = frozenset(levels)

    def __call__(
        self,
        security_scopes: SecurityScopes,
        services: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> CurrentSession:
        token = credentials.credentials.strip() if credentials else ""
        if not token:
            raise Unauthenticated("Send the session token as 'Authorization: Bearer TOKEN'")
        session = bearer.authenticate(services, token, scope=SELF_SERVICE)
        if session.access_level not in self.levels:
            allowed = ", ".join(sorted(level.value for level in self.levels))
            raise AccessDenied(
                f"This call needs a session of access level {allowed}; "
                f"this one is {session.access_level.value}"
            )
        return session


#: a ``full`` session (settings, sharing, replacement, returns)
FullSession = Annotated[CurrentSession, Security(ClientAuth(FULL))]
#: ``full`` or ``card_only`` (the online security code card)
CardSession = Annotated[CurrentSession, Security(ClientAuth(CARD))]
#: ``full`` or ``documents_only`` (message centre, documents)
ReaderSession = Annotated[CurrentSession, Security(ClientAuth(READERS))]
