"""Commands of funds (issue 5): service API keys for other systems (R-RESTRICT-1) and
deposits (the funding desk; demo and benchmarks)."""

from __future__ import annotations

from typing import Annotated

import typer

from securelogin.domain.money import format_usd
from securelogin.entrypoints.cli.acting import opened
from securelogin.entrypoints.cli.common import DatabaseUrl, admin_app, translate_errors
from securelogin.service.funds import service_keys
from securelogin.service.funds.funds import deposit as deposit_funds

service_key_app = typer.Typer(no_args_is_help=True, help="API keys of other systems")
funds_app = typer.Typer(no_args_is_help=True, help="Account funds")
admin_app.add_typer(service_key_app, name="service-key")
admin_app.add_typer(funds_app, name="funds")


@service_key_app.command("create")
@translate_errors
def create_key(
    name: Annotated[str, typer.Argument(help="the system that will use the key")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print it once (it is stored only as a hash)."""
    with opened(database_url) as services:
        key = service_keys.create_service_key(services, name)
    typer.echo(key)


@service_key_app.command("revoke")
@translate_errors
def revoke_key(
    name: Annotated[str, typer.Argument(help="the system whose key stops working")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key at once."""
    with opened(database_url) as services:
        service_keys.revoke_service_key(services, name)
    typer.echo(f"securelogin: service key {name} revoked", err=True)


@funds_app.command("deposit")
@translate_errors
def deposit(
    account: Annotated[str, typer.Argument(help="account number, e.g. U1000001")],
    amount: Annotated[str, typer.Argument(help='USD, e.g. "2500.00"')],
    database_url: DatabaseUrl = None,
) -> None:
    """Credit an account; prints the new balance (USD 1,497,500.00)."""
    with opened(database_url) as services:
        balance = deposit_funds(services, account=account, amount=amount)
    typer.echo(format_usd(balance))
