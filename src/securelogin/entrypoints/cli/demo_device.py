"""``securelogin admin demo-device SERIAL [CHALLENGE]`` (demo devices only)."""

from __future__ import annotations

from typing import Annotated

import typer

from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    open_services,
    read_secret,
    translate_errors,
)
from securelogin.service.operators.demo_devices import play_demo_device


@admin_app.command("demo-device")
@translate_errors
def demo_device(
    serial: Annotated[str, typer.Argument(help="serial of a demo card or token")],
    challenge: Annotated[str | None, typer.Argument(help="the challenge shown at login")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print the code or response a demo device would show (asks the PIN of a DSC+)."""
    services = open_services(database_url)
    typer.echo(
        play_demo_device(
            services,
            serial,
            challenge=challenge,
            ask_pin=lambda: read_secret("PIN", what="the PIN"),
        )
    )
