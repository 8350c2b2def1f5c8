"""Settings are typed and validated once (SPEC §9, §10.1)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from securelogin.bootstrap import load_settings, master_keys
from securelogin.errors import ConfigurationError


def test_production_refuses_to_start_without_an_explicit_master_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECURELOGIN_ENV", "production")
    with pytest.raises(ConfigurationError, match="production needs SECURELOGIN_MASTER_KEY"):
        load_settings()
    key = base64.b64encode(b"k" * 32).decode()
    assert load_settings(master_key=key, allow_dev_outbox=True).env == "production"


def test_development_creates_a_key_file_next_to_the_sqlite_database(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/x.db")
    keys = master_keys(settings)
    assert (tmp_path / "x.db.key").stat().st_mode & 0o777 == 0o600
    assert master_keys(settings) == keys


def test_a_postgresql_database_needs_an_explicit_key() -> None:
    settings = load_settings(database_url="postgresql://u@127.0.0.1:5432/db")
    with pytest.raises(ConfigurationError, match="only created for a SQLite database"):
        master_keys(settings)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("database_url", "mysql://x", "database_url: database URL must start with"),
        ("port", 70000, "port:"),
        ("argon2_memory_kib", 1024, "argon2_memory_kib:"),
    ],
)
def test_a_bad_setting_is_one_clear_line(setting: str, value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_settings(**{setting: value})
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("rp_id", "origins", "says"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000", "not an IP address"),
        ("bank.example", "https://evil.example", "not on the RP ID"),
        ("bank.example", "https://portal.bank.example/login", "is not an origin"),
        ("bank.example", " , ", "at least one origin"),
    ],
)
def test_webauthn_settings_refuse_an_rp_id_the_origins_do_not_belong_to(
    rp_id: str, origins: str, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        load_settings(webauthn_rp_id=rp_id, webauthn_origins=origins)


def test_webauthn_origins_may_be_subdomains_of_the_rp_id() -> None:
    settings = load_settings(
        webauthn_rp_id="bank.example",
        webauthn_origins="https://bank.example, https://portal.bank.example:8443/",
    )
    assert settings.webauthn_origin_list == (
        "https://bank.example",
        "https://portal.bank.example:8443",
    )
