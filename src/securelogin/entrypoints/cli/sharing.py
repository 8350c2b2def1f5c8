"""``securelogin admin share-requests list|approve|reject`` (R-SHARE-4, R-OPS-2).

The commands act as ``--operator NAME`` (an enabled operator with the compliance role)
and are audited under that name; a second decision on one request is refused with
``share_request_decided`` and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer

from securelogin.domain.sharing import ShareStatus
from securelogin.entrypoints.cli.acting import open_acting
from securelogin.entrypoints.cli.common import DatabaseUrl, admin_app, fail, translate_errors
from securelogin.service.lifecycle import sharing

share_app = typer.Typer(
    no_args_is_help=True, help="Share requests waiting for compliance (R-SHARE-4)"
)
admin_app.add_typer(share_app, name="share-requests")

ActingOperator = Annotated[
    str, typer.Option("--operator", help="the compliance operator acting (audited)")
]
Reason = Annotated[str, typer.Option("--reason", help="why (stored with the decision)")]


def _line(r: sharing.ShareRequestView) -> str:
    decided = f"\t{r.decided_by}\t{r.reason}" if r.decided_by else ""
    return (
        f"{r.request_id}\t{r.status.value}\t{r.requester} <- {r.owner}\t"
        f"{r.device_kind.value}\t{r.device_serial or '-'}\t{r.created_at.isoformat()}{decided}"
    )


@share_app.command("list")
@translate_errors
def list_command(
    operator: ActingOperator,
    status: Annotated[
        str, typer.Option("--status", help="pending_compliance (default), approved, rejected …")
    ] = ShareStatus.PENDING_COMPLIANCE.value,
    database_url: DatabaseUrl = None,
) -> None:
    """One line per request: id, status, requester <- owner, device, time."""
    try:
        wanted = ShareStatus(status)
    except ValueError:
        raise fail(f"unknown status {status!r}", 2) from None
    services, actor = open_acting(database_url, operator)
    for request in sharing.list_requests(services, actor, status=wanted):
        typer.echo(_line(request))


def _decide(
    request_id: str, operator: str, reason: str, database_url: str | None, *, approve: bool
) -> None:
    services, actor = open_acting(database_url, operator)
    decided = sharing.decide(services, actor, request_id=request_id, approve=approve, reason=reason)
    typer.echo(f"share request {decided.request_id} {decided.status.value}")


@share_app.command("approve")
@translate_errors
def approve(
    request_id: str, operator: ActingOperator, reason: Reason, database_url: DatabaseUrl = None
) -> None:
    """Approve: the requester's devices are retired, the device protects both (R-SHARE-5)."""
    _decide(request_id, operator, reason, database_url, approve=True)


@share_app.command("reject")
@translate_errors
def reject(
    request_id: str, operator: ActingOperator, reason: Reason, database_url: DatabaseUrl = None
) -> None:
    """Reject with a reason; nothing is shared."""
    _decide(request_id, operator, reason, database_url, approve=False)
