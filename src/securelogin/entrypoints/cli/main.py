"""The ``securelogin`` command (SPEC §10.1). Each command calls one service and maps errors.

Exit codes: 0 success; 1 refused input or rule; 2 usage; 3 storage or configuration;
4 integrity violation (audit chain); 70 unexpected internal error.  Failures print one
line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.config import Settings
from securelogin.entrypoints.cli.cards import demo_folder, save_demo_cards
from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    app,
    audit_app,
    db_app,
    fail,
    open_services,
    translate_errors,
)
from securelogin.entrypoints.cli.demo_key import DEMO_KEYS_FOLDER, describe_key, prepare_demo_key
from securelogin.service import audit, importing
from securelogin.service.context import Services
from securelogin.service.operators import demo
from securelogin_key.errors import KeyAppError


@app.command()
@translate_errors
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the API, the Client Portal and the operator console (migrations applied)."""
    settings = load_settings(database_url=database_url, host=host, port=port)
    bootstrap(settings, migrate=True)
    _run_server(settings, workers)


def _run_server(settings: Settings, workers: int) -> None:
    import uvicorn

    from securelogin.entrypoints.server import protocol_for

    host, port, database_url = settings.host, settings.port, settings.database_url

    os.environ["SECURELOGIN_DATABASE_URL"] = database_url
    typer.echo(f"securelogin: serving on http://{host}:{port}/", err=True)
    uvicorn.run(
        "securelogin.entrypoints.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        proxy_headers=False,
        http=protocol_for(settings.http_parser.value),
        loop=settings.event_loop.value,
        backlog=settings.backlog,
    )


@app.command("demo")
@translate_errors
def demo_command(
    database_url: DatabaseUrl = None,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load only")] = False,
    reset_operator: Annotated[
        bool,
        typer.Option(
            "--reset-operator", help="a new TOTP enrolment for the demo operator, printed"
        ),
    ] = False,
) -> None:
    """Load the demo brokerage (once), print how to try it, then serve."""
    settings = load_settings(database_url=database_url, host=host, port=port, demo=True)
    services = bootstrap(settings, migrate=True)
    report = demo.load_demo(services, reset_operator=reset_operator)
    folder = save_demo_cards(services, settings, report.cards)
    url = f"http://{settings.host}:{settings.port}/"
    command = _this_command()
    key_home = _demo_key(services, settings, url, fresh=report.created)
    report = replace(report, users=demo.held_now(services, report.users))
    typer.echo(
        demo.describe(
            report,
            url=url,
            cards_folder=str(folder) if folder else None,
            command=command,
        )
    )
    if key_home is not None:
        typer.echo(describe_key(_shown(key_home), command))
    if not no_serve:
        os.environ["SECURELOGIN_DEMO"] = "true"
        _run_server(settings, 1)


def _demo_key(services: Services, settings: Settings, url: str, *, fresh: bool) -> Path | None:
    """The demo user's ready mobile key (demo-keys/frank); the demo runs without it."""
    folder = demo_folder(settings, DEMO_KEYS_FOLDER)
    try:
        return prepare_demo_key(services, folder, server=url.rstrip("/"), fresh=fresh)
    except (KeyAppError, OSError) as exc:
        typer.echo(f"securelogin: demo mobile key not prepared in {folder}: {exc}", err=True)
        return None


def _shown(path: Path) -> Path:
    """A path as short as a person types it: relative to the current folder when inside."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _this_command() -> str:
    """How a person runs ``securelogin`` again from here: the bare name when it is on the
    PATH, else the path it was started by (``.venv/bin/securelogin`` after ``make serve``)."""
    started = Path(sys.argv[0])
    on_path = shutil.which("securelogin")
    if on_path and Path(on_path).resolve() == started.resolve():
        return "securelogin"
    try:
        return str(started.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(started)


@db_app.command("upgrade")
@translate_errors
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or migrate the schema to the newest version."""
    open_services(database_url, migrate=True)
    typer.echo("securelogin: database is up to date")


@admin_app.command("import")
@translate_errors
def admin_import(
    file: Annotated[Path, typer.Argument(help="YAML or JSON file (SPEC §10.3)")],
    database_url: DatabaseUrl = None,
) -> None:
    """Load entities, accounts, users and devices; all or nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}", 1) from None
    data = importing.decode(text, filename=file.name)
    services = open_services(database_url, migrate=True)
    summary = importing.import_data(services, data)
    typer.echo(
        f"securelogin: imported {summary.entities} entities, {summary.accounts} "
        f"accounts, {summary.users} users, {summary.devices} devices"
    )


@audit_app.command("verify")
@translate_errors
def audit_verify(database_url: DatabaseUrl = None) -> None:
    """Verify the hash chain of the audit log; name the first broken link."""
    result = audit.verify_chain(open_services(database_url))
    typer.echo(f"securelogin: audit chain intact ({result.events} events)")


def run(args: list[str] | None = None) -> None:
    """Console entry point: never let a traceback reach the terminal.  ``args`` instead
    of ``sys.argv[1:]`` runs a command in this process (the tests' ``invoke_cli``)."""
    try:
        app(args=args, prog_name="securelogin")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence for the one-line promise
        typer.echo(f"securelogin: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(70)


from securelogin.entrypoints.cli import cards as _cards  # noqa: E402,F401  registers the command
from securelogin.entrypoints.cli import demo_device as _demo_device  # noqa: E402,F401
from securelogin.entrypoints.cli import funds as _funds  # noqa: E402,F401
from securelogin.entrypoints.cli import inventory as _inventory  # noqa: E402,F401  registers the commands
from securelogin.entrypoints.cli import key as _key  # noqa: E402,F401
from securelogin.entrypoints.cli import lifecycle as _lifecycle  # noqa: E402,F401
from securelogin.entrypoints.cli import oidc as _oidc  # noqa: E402,F401
from securelogin.entrypoints.cli import operators as _operators  # noqa: E402,F401
from securelogin.entrypoints.cli import outbox as _outbox  # noqa: E402,F401  registers the command
from securelogin.entrypoints.cli import sharing as _sharing  # noqa: E402,F401
