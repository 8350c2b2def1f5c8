"""``securelogin admin issue-card``: a new security code card, printed to PDF and HTML.

The files hold the card's values, which exist nowhere else (the database keeps hashes):
they are created with mode 0600, never overwrite an existing file, and the command says
where they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from securelogin.bootstrap import default_database_path
from securelogin.config import Settings
from securelogin.domain.cards import PrintableCard
from securelogin.entrypoints.cli.common import (
    DatabaseUrl,
    admin_app,
    fail,
    open_services,
    translate_errors,
)
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards

DEMO_CARDS_FOLDER = "demo-cards"


@admin_app.command("issue-card")
@translate_errors
def admin_issue_card(
    username: Annotated[str, typer.Argument(help="who the card is for")],
    out: Annotated[
        Path, typer.Option("--out", help="folder for <serial>.pdf and <serial>.html")
    ] = Path("cards"),
    online: Annotated[
        bool,
        typer.Option("--online", help="an online card (R-LOST-2): no serial, valid 21 days"),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a security code card (SPEC §3) and write it as PDF and HTML, mode 0600."""
    folder = _prepare(out)
    services = open_services(database_url, migrate=True)
    issued = cards.issue_code_card(services, username=username, actor="cli:admin", online=online)
    try:
        paths = write_card_files(services, issued.printable, folder)
    except OSError as exc:
        raise fail(
            f"card {issued.device_id} was issued but could not be written to {folder}: "
            f"{exc.strerror or exc}; revoke it and issue another",
            1,
        ) from None
    typer.echo(f"securelogin: issued {issued.printable.title.lower()} {issued.printable.serial}")
    for path in paths:
        typer.echo(str(path))


def _prepare(folder: Path) -> Path:
    """Make sure the files can be written before a card exists that nobody could print."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create {folder}: {exc.strerror or exc}", 1) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise fail(f"cannot write to {folder}", 1)
    return folder


def write_card_files(services: Services, card: PrintableCard, folder: Path) -> list[Path]:
    """``<serial>.pdf`` and ``<serial>.html`` in ``folder``; raises OSError on failure."""
    printed = cards.print_card(services, card)
    pdf = folder / f"{card.serial}.pdf"
    html = folder / f"{card.serial}.html"
    _write_private(pdf, printed.pdf)
    _write_private(html, printed.html.encode("utf-8"))
    return [pdf, html]


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: a card file is never replaced; O_NOFOLLOW: nor written through a symlink
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as sink:
        os.fchmod(sink.fileno(), 0o600)
        sink.write(data)


def demo_folder(settings: Settings, name: str) -> Path:
    """Where the demo keeps its files: next to its SQLite file, else the current folder."""
    database = default_database_path(settings)
    return (database.parent if database else Path.cwd()) / name


def save_demo_cards(
    services: Services, settings: Settings, demo_cards: Sequence[PrintableCard]
) -> Path | None:
    """The demo's code cards in ``demo-cards/`` next to its SQLite file (else the current
    folder); returns the folder when it holds cards (written now or by an earlier run)."""
    folder = demo_folder(settings, DEMO_CARDS_FOLDER)
    try:
        if demo_cards:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for card in demo_cards:
            for stale in (folder / f"{card.serial}.pdf", folder / f"{card.serial}.html"):
                stale.unlink(missing_ok=True)  # a new demo database: the old cards are void
            write_card_files(services, card, folder)
    except OSError as exc:  # the demo still runs; the cards are a convenience
        typer.echo(f"securelogin: demo cards not written to {folder}: {exc}", err=True)
        return None
    return folder if any(folder.glob("*.pdf")) else None
