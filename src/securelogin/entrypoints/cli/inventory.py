"""``securelogin admin import-pskc | assign-device | inventory`` (SPEC §10.1, R-OPS-3).

Secrets are never command-line arguments (they would land in shell history and ``ps``):
the PSKC file's password and a DSC+ owner's PIN are read from the terminal with a hidden
prompt, or, when stdin is not a terminal, from the first line of stdin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    fail,
    open_services,
    read_secret,
    translate_errors,
)
from securelogin.service.lifecycle import inventory

KIND_HELP = "dsc, dsc_plus, platinum_card or gold_card"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}", 1) from None


@admin_app.command("import-pskc")
@translate_errors
def import_pskc_command(
    file: Annotated[Path, typer.Argument(help="the manufacturer's PSKC file (RFC 6030)")],
    kind: Annotated[str, typer.Option("--kind", help=KIND_HELP)],
    database_url: DatabaseUrl = None,
    preshared_key_file: Annotated[
        Path | None,
        typer.Option(
            "--preshared-key-file",
            help="AES key of a pre-shared-key file: 16/24/32 raw bytes or hex",
        ),
    ] = None,
) -> None:
    """Put hardware seeds into the inventory of unassigned devices; all or nothing.

    A password-protected file asks for its password (hidden), or reads it from the first
    line of stdin when stdin is not a terminal."""
    hardware = inventory.parse_kind(kind)
    data = _read_bytes(file)
    preshared = (
        None
        if preshared_key_file is None
        else inventory.decode_preshared_key(_read_bytes(preshared_key_file))
    )
    services = open_services(database_url, migrate=True)
    password = None
    if inventory.seed_file_needs_password(services, data):
        password = read_secret(f"Password for {file.name}", what="the PSKC file's password")
    report = inventory.import_seed_file(
        services,
        data,
        kind=hardware,
        password=password,
        preshared_key=preshared,
        actor="cli:import-pskc",
    )
    typer.echo(f"securelogin: imported {report.count} {report.kind} devices into the inventory")


@admin_app.command("assign-device")
@translate_errors
def assign_device_command(
    serial: Annotated[str, typer.Argument(help="serial number of an in-stock device")],
    username: Annotated[str, typer.Argument(help="the user who gets it")],
    database_url: DatabaseUrl = None,
) -> None:
    """Assign an in-stock device to a user; it is active at once.

    A DSC+ asks for its owner's 4-digit PIN (hidden), or reads it from the first line of
    stdin when stdin is not a terminal."""
    services = open_services(database_url, migrate=True)
    item = inventory.stock_item(services, serial)
    pin = read_secret(f"4-digit PIN for {serial}", what="the PIN") if item.needs_pin else None
    assigned = inventory.assign_device(
        services, serial=serial, username=username, pin=pin, actor="cli:assign-device"
    )
    typer.echo(
        f"securelogin: {assigned.kind} {assigned.serial} is {assigned.state} "
        f"for {assigned.username}"
    )


@admin_app.command("inventory")
@translate_errors
def inventory_command(
    kind: Annotated[str | None, typer.Option("--kind", help=KIND_HELP)] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """How many devices of each hardware kind are in stock."""
    services = open_services(database_url, migrate=True)
    wanted = None if kind is None else inventory.parse_kind(kind)
    for each, count in inventory.stock_counts(services, wanted).items():
        typer.echo(f"{each:<14} {count}")
