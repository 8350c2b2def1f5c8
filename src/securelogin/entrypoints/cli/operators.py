"""``securelogin admin operator …`` and ``securelogin admin helpdesk …`` (SPEC §7, issue 6).

Passwords are never command-line arguments: ``operator create`` reads the new password
from the terminal (hidden, asked twice) or from the first line of stdin.  The operator's
TOTP secret is printed once, as an ``otpauth://`` URI and in base32, for their
authenticator app.  The helpdesk commands act as ``--operator NAME`` (an enabled operator
with the helpdesk role) and are audited under that name.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from securelogin.domain.money import format_usd
from securelogin.entrypoints.cli.acting import open_acting
from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    fail,
    open_services,
    read_secret,
    translate_errors,
)
from securelogin.service.operators import helpdesk, operators

operator_app = typer.Typer(no_args_is_help=True, help="Operators of the console and their roles")
helpdesk_app = typer.Typer(no_args_is_help=True, help="Helpdesk actions (R-OPS-1, R-LOST-1)")
admin_app.add_typer(operator_app, name="operator")
admin_app.add_typer(helpdesk_app, name="helpdesk")

Roles = Annotated[
    list[str],
    typer.Option("--role", help="helpdesk, compliance, logistics or admin (repeatable)"),
]
ActingOperator = Annotated[
    str, typer.Option("--operator", help="the helpdesk operator acting (audited)")
]


def _new_password() -> str:
    if not sys.stdin.isatty():
        return read_secret("Password", what="the operator's password")
    first = str(typer.prompt("Password", hide_input=True, err=True))
    second = str(typer.prompt("Repeat the password", hide_input=True, err=True))
    if first != second:
        raise fail("the two passwords differ", 1)
    return first


def _print_secret(enrolled: operators.OperatorEnrolled) -> None:
    """The new TOTP secret, once: as an ``otpauth://`` URI and in base32."""
    typer.echo("Add this TOTP secret to the operator's authenticator app (shown only once):")
    typer.echo(enrolled.otpauth_uri)
    typer.echo(f"secret (base32): {enrolled.secret_base32}")


@operator_app.command("create")
@translate_errors
def create(username: str, role: Roles, database_url: DatabaseUrl = None) -> None:
    """Create an operator; prints the TOTP secret once."""
    roles = operators.parse_roles(role)
    password = _new_password()
    services = open_services(database_url, migrate=True)
    enrolled = operators.create_operator(
        services, username=username, password=password, roles=roles
    )
    names = ",".join(sorted(r.value for r in enrolled.operator.roles))
    typer.echo(f"operator {enrolled.operator.username} created with roles {names}")
    _print_secret(enrolled)


@operator_app.command("list")
@translate_errors
def list_command(database_url: DatabaseUrl = None) -> None:
    """One line per operator: name, roles, state."""
    services = open_services(database_url, migrate=True)
    for o in operators.list_operators(services):
        state = "disabled" if o.disabled else ("locked" if o.locked else "active")
        roles = ",".join(sorted(r.value for r in o.roles))
        typer.echo(f"{o.username}\t{roles}\t{state}")


@operator_app.command("disable")
@translate_errors
def disable(username: str, database_url: DatabaseUrl = None) -> None:
    """Disable an operator; their console sessions end at once."""
    services = open_services(database_url, migrate=True)
    operators.disable_operator(services, username)
    typer.echo(f"operator {username} disabled")


@operator_app.command("reset-totp")
@translate_errors
def reset_totp(username: str, database_url: DatabaseUrl = None) -> None:
    """A new TOTP secret for an operator (printed once); their console sessions end."""
    services = open_services(database_url, migrate=True)
    enrolled = operators.reset_operator_totp(services, username)
    typer.echo(f"operator {enrolled.operator.username}: new TOTP secret, console sessions ended")
    _print_secret(enrolled)


@operator_app.command("unlock")
@translate_errors
def unlock_operator(username: str, database_url: DatabaseUrl = None) -> None:
    """End an operator's lockout after 10 failures (R-LOGIN-3)."""
    services = open_services(database_url, migrate=True)
    operators.unlock_operator(services, username)
    typer.echo(f"operator {username} unlocked")


@helpdesk_app.command("verify")
@translate_errors
def verify(
    username: str,
    operator: ActingOperator,
    method: Annotated[
        str, typer.Option("--method", help="security_questions, callback or id_document")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record how the caller's identity was verified."""
    services, actor = open_acting(database_url, operator)
    helpdesk.verify_identity(services, actor, username=username, method=method, note=note)
    typer.echo(f"identity of {username} verified by {method}")


@helpdesk_app.command("unlock")
@translate_errors
def unlock(username: str, operator: ActingOperator, database_url: DatabaseUrl = None) -> None:
    """Unlock a locked login (R-LOGIN-3)."""
    services, actor = open_acting(database_url, operator)
    helpdesk.unlock_login(services, actor, username=username)
    typer.echo(f"login of {username} unlocked")


@helpdesk_app.command("temporary-code")
@translate_errors
def temporary_code(
    username: str, operator: ActingOperator, database_url: DatabaseUrl = None
) -> None:
    """Issue a temporary code (R-LOGIN-9); prints it once."""
    services, actor = open_acting(database_url, operator)
    issued = helpdesk.issue_temporary_code(services, actor, username=username)
    typer.echo(issued.code)
    typer.echo(
        f"full access until {issued.full_until:%Y-%m-%d %H:%M} UTC, "
        f"card only until {issued.card_only_until:%Y-%m-%d %H:%M} UTC",
        err=True,
    )


@helpdesk_app.command("mark")
@translate_errors
def mark(
    username: str,
    device_id: str,
    state: Annotated[str, typer.Option("--as", help="lost, stolen or damaged")],
    operator: ActingOperator,
    database_url: DatabaseUrl = None,
) -> None:
    """Mark a user's active device lost, stolen or damaged; its sessions end."""
    services, actor = open_acting(database_url, operator)
    done = helpdesk.mark_device(
        services, actor, username=username, device_id=device_id, state=state
    )
    charged = done.deposit_charged_cents
    typer.echo(
        f"device {device_id} marked {state}; {done.sessions_ended} session(s) ended"
        + (f"; deposit {format_usd(charged)} charged" if charged else "")
    )
