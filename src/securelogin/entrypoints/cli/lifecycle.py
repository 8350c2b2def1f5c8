"""Commands of device lifecycle (issue 6): replacements, returns, deposits, closure,
documents and the background jobs.

Operator actions take ``--operator NAME`` (an enabled operator with the needed role,
audited under that name).  Without it the command acts as the local administrator
``cli`` — whoever can run the command already holds the database URL and the master key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated

import typer

from securelogin.domain.money import format_usd
from securelogin.entrypoints.cli.acting import open_acting
from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    open_services,
    translate_errors,
)
from securelogin.service.lifecycle import closure, documents, jobs, replacement, returns

replacements_app = typer.Typer(no_args_is_help=True, help="Replacement devices (R-LOST-3/4)")
returns_app = typer.Typer(no_args_is_help=True, help="Device returns and deposits (R-RETURN)")
documents_app = typer.Typer(no_args_is_help=True, help="Statements and tax forms (R-LOGIN-8)")
jobs_app = typer.Typer(no_args_is_help=True, help="Background work (R-OPS-4)")
admin_app.add_typer(replacements_app, name="replacements")
admin_app.add_typer(returns_app, name="returns")
admin_app.add_typer(documents_app, name="documents")
admin_app.add_typer(jobs_app, name="jobs")


def echo_rows(rows: Iterable[tuple[object, ...]]) -> None:
    """One line a row, its fields separated by tabs (for ``cut`` and ``awk``)."""
    for row in rows:
        typer.echo("\t".join(str(field) for field in row))


ActingOperator = Annotated[
    str | None,
    typer.Option("--operator", help="the operator acting (audited); default: local admin 'cli'"),
]


@jobs_app.command("run")
@translate_errors
def jobs_run(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One pass: reminders, auto-activation, expiry, unreturned deposits, clean-up, delivery."""
    services = open_services(database_url, migrate=True)
    report = jobs.run_once(services)
    figures = {k: getattr(report, k) for k in report.__dataclass_fields__}
    if as_json:
        typer.echo(json.dumps(figures))
    else:
        typer.echo(" ".join(f"{k}={v}" for k, v in figures.items()))


@admin_app.command("close-account")
@translate_errors
def close_account_command(
    account: str, operator: ActingOperator = None, database_url: DatabaseUrl = None
) -> None:
    """Close an account: settle its users' devices, end sessions (R-CLOSE-1)."""
    services, actor = open_acting(database_url, operator)
    report = closure.close_account(services, actor, account=account)
    typer.echo(
        f"account {report.account} closed; users: {', '.join(report.users) or '-'}; "
        f"sessions ended: {report.sessions_ended}; returns: {', '.join(report.returns) or '-'}; "
        f"shredded: {', '.join(report.shredded) or '-'}; "
        f"deactivated: {', '.join(report.deactivated) or '-'}; "
        f"deposits charged: {format_usd(report.deposits_charged_cents)}; "
        f"final statement: {report.statement}"
    )


@replacements_app.command("list")
@translate_errors
def replacements_list(operator: ActingOperator = None, database_url: DatabaseUrl = None) -> None:
    """Open replacement requests (requested, assigned, shipped)."""
    services, actor = open_acting(database_url, operator)
    echo_rows(
        (
            r.request_id,
            r.username,
            r.kind,
            r.state,
            r.serial or "-",
            f"ship by {r.estimated_ship_date}",
            r.address.replace("\n", ", "),
        )
        for r in replacement.open_requests(services, actor)
    )


@replacements_app.command("assign")
@translate_errors
def replacements_assign(
    request: str, serial: str, operator: ActingOperator = None, database_url: DatabaseUrl = None
) -> None:
    """Assign a device from the inventory to a request, by serial."""
    services, actor = open_acting(database_url, operator)
    done = replacement.assign_device(services, actor, request_id=request, serial=serial)
    typer.echo(f"{done.request_id}: {done.serial} assigned to {done.username}")


@replacements_app.command("ship")
@translate_errors
def replacements_ship(
    request: str, operator: ActingOperator = None, database_url: DatabaseUrl = None
) -> None:
    """Mark the assigned device shipped (auto-activation in 21 days)."""
    services, actor = open_acting(database_url, operator)
    done = replacement.ship(services, actor, request_id=request)
    typer.echo(f"{done.request_id}: {done.serial} shipped; activates by {done.activates_at}")


@returns_app.command("list")
@translate_errors
def returns_list(operator: ActingOperator = None, database_url: DatabaseUrl = None) -> None:
    """Devices on their way back."""
    services, actor = open_acting(database_url, operator)
    echo_rows(
        (
            r.id,
            r.username,
            r.kind,
            r.serial or r.device_public_id,
            r.reason,
            r.region,
            f"since {r.created_at:%Y-%m-%d}",
        )
        for r in returns.pending_returns(services, actor)
    )


@returns_app.command("receive")
@translate_errors
def returns_receive(
    return_id: int, operator: ActingOperator = None, database_url: DatabaseUrl = None
) -> None:
    """Record receipt: the device is returned and its deposit released (R-RETURN-2)."""
    services, actor = open_acting(database_url, operator)
    done = returns.record_receipt(services, actor, return_id=return_id)
    typer.echo(f"return {done.id}: {done.serial or done.device_public_id} received")


@returns_app.command("take-deposit")
@translate_errors
def returns_take_deposit(
    device: str,
    reason: Annotated[str, typer.Option("--reason", help="lost, stolen, intentionally_damaged")],
    operator: ActingOperator = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Convert the device's deposit hold into a charge (R-RETURN-3)."""
    services, actor = open_acting(database_url, operator)
    cents = returns.take_deposit(services, actor, device_id=device, reason=reason)
    typer.echo(f"deposit of {format_usd(cents)} taken for {device}")


@documents_app.command("generate")
@translate_errors
def documents_generate(
    account: str,
    kind: Annotated[str, typer.Option("--kind")] = "activity_statement",
    period: Annotated[str, typer.Option("--period", help="e.g. 2026 or 2026-11")] = "2026",
    operator: ActingOperator = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Store an activity statement or tax form of an account as PDF."""
    services, actor = open_acting(database_url, operator)
    doc = documents.generate(services, actor, account=account, kind=kind, period=period)
    typer.echo(doc)
