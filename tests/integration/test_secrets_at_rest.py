"""Secrets in files other local users can read (issue 12, finding 2; SPEC §9, §10.1).

Files are checked under a umask of 0, so that only the modes the code asks for count:
the SQLite database and its ``-wal``/``-shm``, the development key file, code-card files
and the soft key's vault are 0600.  SMS and e-mail bodies are sealed in the outbox table
in every gateway mode and opened for ``admin outbox``; a real gateway leaves no code
behind.  Production refuses the development outbox as the only SMS route.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from securelogin.adapters.db.engine import normalize_url
from securelogin.bootstrap import bootstrap, load_settings
from securelogin.config import Settings, SmsGatewayKind
from securelogin.domain.cards import PrintableCard
from securelogin.entrypoints.cli.cards import write_card_files
from securelogin.errors import ConfigurationError
from securelogin.service.context import Services
from securelogin.service.notifications import deliver_due, recent_messages
from securelogin_key.vault import Sealing, UserKey, Vault, VaultFile
from tests.conftest import MASTER_KEY, make_settings
from tests.e2e.cli import run_cli
from tests.fakes import FakeClock, RecordingSms

CODE = "482913"
PHONE = "+15551230001"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Every file the code creates would be world-readable unless it asks otherwise."""
    before = os.umask(0)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw_bodies(url: str) -> list[str]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT body FROM outbox ORDER BY id"))]
    finally:
        engine.dispose()


def test_ISSUE12_F2_the_sqlite_database_and_its_wal_and_shm_are_created_0600(
    tmp_path: Path, open_umask: None
) -> None:
    db = tmp_path / "securelogin.db"
    services = bootstrap(make_settings(f"sqlite:///{db}"), migrate=True, clock=FakeClock())
    try:
        with services.uow() as uow:  # a write, so that the WAL holds something
            uow.outbox.enqueue(channel="sms", to=PHONE, text=CODE)
            uow.commit()
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        services.database.close()


def test_ISSUE12_F2_the_development_key_file_is_created_0600(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECURELOGIN_MASTER_KEY", raising=False)
    db = tmp_path / "dev.db"
    services = bootstrap(load_settings(database_url=f"sqlite:///{db}"), migrate=True)
    services.database.close()
    assert mode(db.with_name("dev.db.key")) == 0o600


def test_ISSUE12_F2_code_card_files_and_the_soft_key_vault_are_0600(
    tmp_path: Path, open_umask: None
) -> None:
    services = bootstrap(
        make_settings(f"sqlite:///{tmp_path}/c.db"), migrate=True, clock=FakeClock()
    )
    card = PrintableCard(
        serial="SCC-00000001",
        holder="Alice Chen",
        issued=date(2026, 12, 7),
        values={i: "A1B" for i in range(1, 201)},
    )
    try:
        written = write_card_files(services, card, tmp_path)
    finally:
        services.database.close()
    home = tmp_path / "phone"
    user = UserKey(
        username="alice", device_id="d", ocra_suite="OCRA-1:HOTP-SHA256-8:QN06", ocra_secret=b"s"
    )
    vault = Vault(
        server="http://x", app_id="a", server_public_key="k", private_key_der=b"p", users=(user,)
    )
    VaultFile(home).save(vault, Sealing.fresh("4711"))
    private = [*written, home / "vault.json", home / ".lock"]
    assert {p.name: mode(p) for p in private if p.exists()} == {
        p.name: 0o600 for p in private if p.exists()
    }


def test_ISSUE12_F2_sms_and_email_bodies_are_sealed_at_rest_and_opened_for_admin_outbox(
    services: Services, settings: Settings
) -> None:
    with services.uow() as uow:
        uow.outbox.enqueue(channel="sms", to=PHONE, text=f"Your code is {CODE}")
        uow.outbox.enqueue(channel="email", to="ann@example.test", text=f"Code\n\n{CODE}")
        uow.commit()
    bodies = raw_bodies(settings.database_url)
    assert len(bodies) == 2 and not [b for b in bodies if CODE in b]
    assert all(b.startswith("sealed:") for b in bodies)
    # the development outbox keeps the row as the delivery; it still opens for display
    deliver_due(services)
    assert [m.text for m in recent_messages(services)] == [
        f"Your code is {CODE}",
        f"Code\n\n{CODE}",
    ]
    assert not [b for b in raw_bodies(settings.database_url) if CODE in b]


def test_ISSUE12_F2_a_real_gateway_leaves_no_code_in_the_row(
    services: Services, settings: Settings
) -> None:
    sms = RecordingSms()
    with services.uow() as uow:
        uow.outbox.enqueue(channel="sms", to=PHONE, text=f"Your code is {CODE}")
        uow.commit()
    deliver_due(replace(services, sms=sms))
    assert sms.sent == [(PHONE, f"Your code is {CODE}")]
    assert raw_bodies(settings.database_url) == ["[delivered]"]


def test_ISSUE12_F2_admin_outbox_shows_the_sealed_code(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path}/o.db"
    services = bootstrap(make_settings(url), migrate=True)
    with services.uow() as uow:
        uow.outbox.enqueue(channel="sms", to=PHONE, text=f"Your code is {CODE}")
        uow.commit()
    services.database.close()
    shown = run_cli("admin", "outbox", "--database-url", url, env=cli_env)
    assert shown.returncode == 0 and f"Your code is {CODE}" in shown.stdout
    assert not [b for b in raw_bodies(url) if CODE in b]


def test_ISSUE12_F2_production_refuses_the_development_outbox_as_the_only_sms_route() -> None:
    with pytest.raises(ConfigurationError, match="SECURELOGIN_SMS_GATEWAY=http or twilio"):
        load_settings(env="production", master_key=MASTER_KEY)
    allowed = load_settings(env="production", master_key=MASTER_KEY, allow_dev_outbox=True)
    assert allowed.sms_gateway is SmsGatewayKind.DEV
    real = load_settings(
        env="production", master_key=MASTER_KEY, sms_gateway="http", sms_http_url="https://s.test"
    )
    assert real.sms_gateway is SmsGatewayKind.HTTP


def test_ISSUE12_F2_production_serve_with_only_the_dev_outbox_exits_3_with_one_line(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    env = {**cli_env, "SECURELOGIN_ENV": "production"}
    result = run_cli("serve", "--database-url", f"sqlite:///{tmp_path}/p.db", env=env, timeout=30)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "SECURELOGIN_ALLOW_DEV_OUTBOX" in result.stderr
    assert not (tmp_path / "p.db").exists()


def test_ISSUE12_F2_bodies_stored_in_clear_by_an_older_version_are_sealed_on_upgrade(
    services: Services, settings: Settings
) -> None:
    engine = create_engine(normalize_url(settings.database_url))
    try:
        with engine.begin() as conn:
            for channel, body in (
                ("sms", f"Your code is {CODE}"),
                ("email", f"Code\n\n{CODE}"),
                ("sms", "[delivered]"),
                ("portal", "Your device ships\n\ntoday"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO outbox (channel, recipient, body, created_at, available_at,"
                        " attempts) VALUES (:c, :r, :b, :t, :t, 0)"
                    ),
                    {"c": channel, "r": PHONE, "b": body, "t": FakeClock().now()},
                )
    finally:
        engine.dispose()
    again = bootstrap(settings, migrate=True, clock=FakeClock())  # `db upgrade`, `serve`
    again.database.close()
    bodies = raw_bodies(settings.database_url)
    assert not [b for b in bodies if CODE in b]
    assert bodies[2:] == ["[delivered]", "Your device ships\n\ntoday"]
    with services.uow() as uow:
        shown = [m.text for m in uow.outbox.recent(to=PHONE, limit=10)]
    assert shown == [f"Your code is {CODE}", f"Code\n\n{CODE}", "[delivered]", shown[3]]
