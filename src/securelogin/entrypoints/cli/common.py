"""What every ``securelogin`` command shares: the Typer apps, the error table, options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer

from securelogin import errors
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.service.context import Services

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="securelogin: Secure Login System for brokerages",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema")
admin_app = typer.Typer(no_args_is_help=True, help="Administration")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
admin_app.add_typer(audit_app, name="audit")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
        "(default: $SECURELOGIN_DATABASE_URL, else sqlite:///./securelogin.db)",
    ),
]

EXIT_CODES: dict[type[errors.SecureLoginError], int] = {
    errors.StorageUnavailable: 3,
    errors.ConfigurationError: 3,
    errors.IntegrityViolation: 4,
}


def exit_code(exc: errors.SecureLoginError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"securelogin: {message}", err=True)
    return typer.Exit(code)


def translate_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The CLI's error table: one line on stderr and a non-zero exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except errors.SecureLoginError as exc:
            raise fail(exc.message, exit_code(exc)) from None

    return wrapper


def open_services(
    database_url: str | None, *, migrate: bool = False, **settings: object
) -> Services:
    return bootstrap(load_settings(database_url=database_url, **settings), migrate=migrate)


def read_secret(prompt: str, *, what: str) -> str:
    """A hidden prompt on a terminal; else the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        value = str(typer.prompt(prompt, hide_input=True, err=True))
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise fail(f"{what} expected on the terminal or as the first line of stdin", 1)
    return value
