"""``securelogin key --home DIR …`` (SPEC §10.1): the soft mobile key's command line.

Secrets come from the terminal (hidden) or, when stdin is not a terminal, one per line
from stdin in the order of SPEC §10.1.  Exit codes: 0 ok, 1 refused, 2 usage, 3 the
server cannot be reached; failures print one line on stderr, never a traceback.
"""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from securelogin_key import app as key
from securelogin_key.errors import KeyAppError, UsageError

P = ParamSpec("P")
R = TypeVar("R")

key_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The soft mobile key: activate, approve pushes, answer challenges offline.",
)

Username = Annotated[
    str | None, typer.Option("--username", help="which username (needed when several)")
]


def read_secret(prompt: str) -> str:
    """A hidden prompt on a terminal; else the next line of stdin (SPEC §10.1)."""
    if sys.stdin.isatty():
        value = getpass.getpass(f"{prompt}: ")
    else:
        line = sys.stdin.readline()
        if not line:
            raise UsageError(f"{prompt} expected as the next line of stdin")
        value = line.rstrip("\r\n")
    if not value:
        raise UsageError(f"{prompt} is empty")
    return value


def ask_line(prompt: str) -> str | None:
    """One reply for ``listen``; ``None`` at the end of input."""
    if sys.stdin.isatty():
        try:
            return input(f"{prompt}: ")
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line.rstrip("\r\n") if line else None


def say(line: str) -> None:
    typer.echo(line, err=True)


def translate(command: Callable[P, R]) -> Callable[P, R]:
    """The key's error table: one line on stderr and the promised exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KeyAppError as exc:
            typer.echo(f"securelogin key: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


@key_app.callback()
def main(
    typer_ctx: typer.Context,
    home: Annotated[
        Path,
        typer.Option(
            "--home",
            envvar="SECURELOGIN_KEY_HOME",
            help="the app's folder (its vault lives there)",
            file_okay=False,
        ),
    ] = Path("~/.securelogin-key"),
) -> None:
    """The soft mobile key (SPEC §4)."""
    typer_ctx.obj = key.Context(home=home.expanduser(), secret=read_secret, say=say)


def _ctx(typer_ctx: typer.Context) -> key.Context:
    obj = typer_ctx.obj
    assert isinstance(obj, key.Context)  # noqa: S101 - set by the callback above
    return obj


@key_app.command()
@translate
def activate(
    typer_ctx: typer.Context,
    server: Annotated[
        str | None, typer.Option("--server", help="the securelogin server URL")
    ] = None,
    username: Annotated[str | None, typer.Option("--username")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="a new number, +E.164")] = None,
    country: Annotated[str | None, typer.Option("--country", help="its ISO country")] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="the one-time id of the portal's QR code")
    ] = None,
    link: Annotated[
        str | None,
        typer.Option("--link", help="the portal's QR code: securelogin-key://activate?..."),
    ] = None,
) -> None:
    """Activate (stdin: password, SMS code, app PIN, recovery PIN; with --session: the PINs)."""
    ctx = _ctx(typer_ctx)
    if link is not None:
        server, session = key.parse_link(link)
    if not server:
        raise UsageError("pass --server URL (or --link from the portal's QR code)")
    if session is not None:
        if username or phone:
            raise UsageError("--session replaces --username and --phone")
        vault = key.activate_session(ctx, server=server, session=session)
    elif username:
        vault = key.activate(ctx, server=server, username=username, phone=phone, country=country)
    else:
        raise UsageError("pass --username U (or --session ID from the portal's QR code)")
    user = vault.users[0]
    typer.echo(f"activated {user.username} (device {user.device_id}) in app {vault.app_id}")


@key_app.command()
@translate
def approve(
    typer_ctx: typer.Context,
    number: Annotated[
        str | None, typer.Option("--number", help="the 2-digit number on the login screen")
    ] = None,
    deny: Annotated[bool, typer.Option("--deny", help="deny the request")] = False,
    not_me: Annotated[
        bool, typer.Option("--not-me", help="deny: it was not me (mutes pushes 20 min)")
    ] = False,
    username: Username = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait")] = 60.0,
) -> None:
    """Answer this app's pending push (stdin: app PIN)."""
    done = key.approve(
        _ctx(typer_ctx),
        number=number,
        deny=deny,
        not_me=not_me,
        username=username,
        timeout=timeout,
    )
    typer.echo(done.describe())


@key_app.command()
@translate
def respond(
    typer_ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="the challenge shown on the login screen")],
    username: Username = None,
) -> None:
    """Print the 8-digit response to a challenge, offline (stdin: app PIN)."""
    typer.echo(key.respond(_ctx(typer_ctx), challenge=challenge, username=username))


@key_app.command()
@translate
def listen(
    typer_ctx: typer.Context,
    username: Username = None,
    count: Annotated[int, typer.Option("--count", help="stop after N answers (0: never)")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", help="stop after S s (0: never)")] = 0,
) -> None:
    """Show pushes as they arrive and answer them (stdin: app PIN, then one reply each)."""
    answered = key.listen(
        _ctx(typer_ctx), ask=ask_line, username=username, count=count, timeout=timeout
    )
    say(f"answered {answered} request(s)")


@key_app.command("add-user")
@translate
def add_user(
    typer_ctx: typer.Context,
    username: Annotated[str, typer.Option("--username")],
) -> None:
    """Enable another username in this app (stdin: password, recovery PIN, app PIN)."""
    user = key.add_user(_ctx(typer_ctx), username=username)
    typer.echo(f"added {user.username} (device {user.device_id})")


@key_app.command("reset-pin")
@translate
def reset_pin(typer_ctx: typer.Context) -> None:
    """Re-enable an app PIN locked by 10 wrong tries (stdin: recovery PIN)."""
    key.reset_pin(_ctx(typer_ctx))
    typer.echo("the app PIN works again")


@key_app.command()
@translate
def status(
    typer_ctx: typer.Context,
    online: Annotated[
        bool, typer.Option("--online", help="ask the server for each username's state")
    ] = False,
) -> None:
    """Server, app id and usernames (no PIN); --online adds their state (stdin: app PIN)."""
    for line in key.status(_ctx(typer_ctx), online=online):
        typer.echo(line)


def run() -> None:  # pragma: no cover - a standalone console entry point
    key_app()
