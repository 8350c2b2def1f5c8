"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (issue 16 §1).

Ending a portal session — from a relying party's ``end_session_endpoint`` or from the
portal's own Log Out — revokes the access tokens that session gave and sends each client
that received one, and registered a ``backchannel_logout_uri``, a signed logout token
(``typ`` ``logout+jwt``, the ``sid`` and ``sub`` of its ID tokens).  Delivery happens
after the commit and is best effort (one attempt, short timeout): the session is over
whether or not a relying party answers.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

from securelogin.errors import AuthorizationNotRedirectable, DeliveryFailed
from securelogin.service import sessions
from securelogin.service.context import Services
from securelogin.service.oidc import keys
from securelogin.service.oidc.authorize import with_query
from securelogin.service.oidc.clients import active_client, ports
from securelogin.service.oidc.tokens import session_ref, subject
from securelogin.service.oidc_ports import ClientRow, JsonObject

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Notice:
    client: ClientRow
    user_id: int
    session_id: int


def end_portal_session(services: Services, token: str | None, *, issuer: str) -> None:
    """The portal session behind ``token`` ends, with its tokens; relying parties hear of
    it through back-channel logout."""
    if not token:
        return
    now = services.clock.now()
    notices: list[Notice] = []
    with services.uow() as uow:
        row = uow.sessions.by_token_hash(sessions.token_hash(token))
        if row is None:
            return
        uow.sessions.revoke(row.id, now=now)
        uow.oidc.revoke_tokens_of_session(row.id, now=now)
        for client_id in uow.oidc.clients_of_session(row.id):
            client = active_client(uow, client_id)
            if client is not None and client.backchannel_logout_uri:
                notices.append(Notice(client=client, user_id=row.user_id, session_id=row.id))
        uow.commit()
    for notice in notices:
        _send(services, notice, issuer=issuer)


def _send(services: Services, notice: Notice, *, issuer: str) -> None:
    now = services.clock.now()
    claims: JsonObject = {
        "iss": issuer,
        "aud": notice.client.client_id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + LOGOUT_TOKEN_SECONDS,
        "jti": base64.urlsafe_b64encode(services.random.token_bytes(16)).rstrip(b"=").decode(),
        "sub": subject(services, notice.user_id),
        "sid": session_ref(services, notice.session_id),
        "events": {BACKCHANNEL_EVENT: {}},
    }
    token = keys.sign(services, claims, typ="logout+jwt")
    assert notice.client.backchannel_logout_uri is not None  # noqa: S101 - chosen so above
    try:
        ports(services).backchannel.post(notice.client.backchannel_logout_uri, logout_token=token)
    except DeliveryFailed as exc:
        log.warning("back-channel logout not delivered: %s", exc.message)


def end_session(
    services: Services,
    *,
    issuer: str,
    session_token: str | None,
    id_token_hint: str | None,
    client_id: str | None,
    post_logout_redirect_uri: str | None,
    state: str | None,
) -> str | None:
    """RP-Initiated Logout §2–3: end the browser's session; where to send it afterwards
    (a ``post_logout_redirect_uri`` registered for the client, exactly), or None."""
    hinted: str | None = None
    if id_token_hint:
        try:
            claims = keys.verify_own(services, id_token_hint)
        except ValueError:
            raise AuthorizationNotRedirectable(
                "invalid_request", "id_token_hint is not an ID token of this provider"
            ) from None
        aud = claims.get("aud")
        hinted = aud if isinstance(aud, str) else None
        if client_id and hinted and client_id != hinted:
            raise AuthorizationNotRedirectable(
                "invalid_request", "client_id does not match id_token_hint"
            )
    target: str | None = None
    if post_logout_redirect_uri:
        with services.uow() as uow:
            client = active_client(uow, hinted or client_id)
        if client is None or post_logout_redirect_uri not in client.post_logout_redirect_uris:
            raise AuthorizationNotRedirectable(
                "invalid_request", "post_logout_redirect_uri is not registered for this client"
            )
        target = with_query(post_logout_redirect_uri, {"state": state})
    end_portal_session(services, session_token, issuer=issuer)
    return target
