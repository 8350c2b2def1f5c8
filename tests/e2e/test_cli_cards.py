"""``securelogin admin issue-card`` and the demo's printed cards, as a person runs them.

The files hold the only clear copy of the values: mode 0600, never overwritten, and the
command prints where they are (SPEC §3, §8).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from tests.e2e.cli import invoke_cli, run_cli

PEOPLE = {
    "entities": [{"id": "E-1", "name": "Alice Chen", "identification": {"ssn": "123-45-6789"}}],
    "users": [{"username": "alice", "entity": "E-1", "password": "Wonderland-2026"}],
}


def load_people(url: str, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(yaml.safe_dump(PEOPLE))
    result = invoke_cli("admin", "import", str(path), "--database-url", url, env=env)
    assert result.returncode == 0, result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_SPEC_3_issue_card_writes_a_private_pdf_and_html_named_after_the_serial(
    db_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    load_people(db_url, cli_env, tmp_path)
    out = tmp_path / "printed"
    result = run_cli(
        "admin", "issue-card", "alice", "--out", str(out), "--database-url", db_url, env=cli_env
    )
    assert result.returncode == 0, result.stderr
    first, *paths = result.stdout.splitlines()
    serial = re.fullmatch(r"securelogin: issued security code card (SCC-[0-9A-F]{8})", first)
    assert serial, first
    pdf, html = out / f"{serial[1]}.pdf", out / f"{serial[1]}.html"
    assert paths == [str(pdf), str(html)]
    assert pdf.read_bytes().startswith(b"%PDF-") and mode(pdf) == 0o600
    assert serial[1] in html.read_text() and mode(html) == 0o600
    assert mode(out) == 0o700


def test_R_LOST_2_issue_card_online_names_the_files_after_the_device(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    load_people(sqlite_url, cli_env, tmp_path)
    result = invoke_cli(
        "admin",
        "issue-card",
        "alice",
        "--online",
        "--database-url",
        sqlite_url,
        env=cli_env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert re.match(
        r"securelogin: issued online security code card dev_[0-9a-f]{16}\n", result.stdout
    )
    files = sorted(p.name for p in (tmp_path / "cards").iterdir())
    assert len(files) == 2 and files[0].startswith("dev_") and files[1].endswith(".pdf")
    assert "Valid until:" in next((tmp_path / "cards").glob("*.html")).read_text()


def test_issue_card_for_an_unknown_user_fails_in_one_line_and_writes_no_file(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    load_people(sqlite_url, cli_env, tmp_path)
    out = tmp_path / "printed"
    result = invoke_cli(
        "admin",
        "issue-card",
        "mallory",
        "--out",
        str(out),
        "--database-url",
        sqlite_url,
        env=cli_env,
    )
    assert result.returncode == 1
    assert result.stderr == "securelogin: unknown user\n"
    assert list(out.iterdir()) == []


def test_SPEC_8_the_demo_leaves_its_code_cards_as_pdfs_next_to_the_database(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/demo/securelogin.db"
    (tmp_path / "demo").mkdir()
    result = run_cli("demo", "--no-serve", "--database-url", url, env=cli_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "demo" / "demo-cards"
    assert f"printable code cards (alice, grace, judy): {folder}" in result.stdout
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "DEMO-OSCC-0001.html",
        "DEMO-OSCC-0001.pdf",
        "DEMO-SCC-0001.html",
        "DEMO-SCC-0001.pdf",
        "DEMO-SCC-0002.html",
        "DEMO-SCC-0002.pdf",
    ]
    pdf = folder / "DEMO-SCC-0001.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-") and mode(pdf) == 0o600
    before = pdf.read_bytes()
    again = invoke_cli("demo", "--no-serve", "--database-url", url, env=cli_env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout and str(folder) in again.stdout
    assert pdf.read_bytes() == before  # the cards of the loaded demo stay valid
