"""``securelogin admin oidc-client create|list|revoke`` and ``admin oidc-key rotate``
(SPEC §10.2a, issue 16 §1).

``create`` prints ``client_id`` and, for a confidential client, ``client_secret`` as
``key: value`` lines; the secret is shown this once (it is stored as a hash).
"""

from __future__ import annotations

from typing import Annotated

import typer

from securelogin.entrypoints.cli.acting import opened
from securelogin.entrypoints.cli.common import DatabaseUrl, admin_app, translate_errors
from securelogin.service.oidc import clients, keys

client_app = typer.Typer(no_args_is_help=True, help="OpenID Connect relying parties")
key_app = typer.Typer(no_args_is_help=True, help="OpenID Connect signing keys")
admin_app.add_typer(client_app, name="oidc-client")
admin_app.add_typer(key_app, name="oidc-key")


@client_app.command("create")
@translate_errors
def create(
    name: Annotated[str, typer.Argument(help="the application, e.g. 'Trading platform'")],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="exact redirect URI (repeatable)")
    ],
    public: Annotated[
        bool, typer.Option("--public", help="a public client (no secret; PKCE only)")
    ] = False,
    post_logout_redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--post-logout-redirect-uri", help="after RP-initiated logout (repeatable)"),
    ] = None,
    backchannel_logout_uri: Annotated[
        str | None,
        typer.Option("--backchannel-logout-uri", help="receives logout tokens (Back-Channel)"),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a client; prints client_id (and client_secret, once)."""
    with opened(database_url) as services:
        made = clients.create_client(
            services,
            name=name,
            redirect_uris=redirect_uri,
            public=public,
            post_logout_redirect_uris=post_logout_redirect_uri or [],
            backchannel_logout_uri=backchannel_logout_uri,
        )
    typer.echo(f"client_id: {made.client_id}")
    if made.client_secret is not None:
        typer.echo(f"client_secret: {made.client_secret}")


@client_app.command("list")
@translate_errors
def list_(database_url: DatabaseUrl = None) -> None:
    """One line per client: id, state, type, name, redirect URIs."""
    with opened(database_url) as services:
        found = clients.list_clients(services)
    for c in found:
        state = "revoked" if c.revoked_at else "active"
        kind = "public" if c.secret_hash is None else "confidential"
        typer.echo(f"{c.client_id}\t{state}\t{kind}\t{c.name}\t{' '.join(c.redirect_uris)}")


@client_app.command("revoke")
@translate_errors
def revoke(
    client_id: Annotated[str, typer.Argument(help="the client that stops working")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a client at once: no new logins, its codes and tokens stop working."""
    with opened(database_url) as services:
        clients.revoke_client(services, client_id)
    typer.echo(f"securelogin: OpenID Connect client {client_id} revoked", err=True)


@key_app.command("rotate")
@translate_errors
def rotate(database_url: DatabaseUrl = None) -> None:
    """A new signing key now; the previous one stays published for the overlap."""
    with opened(database_url) as services:
        kid = keys.rotate(services)
    typer.echo(f"kid: {kid}")
