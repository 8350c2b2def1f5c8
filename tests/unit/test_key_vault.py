"""The soft key's vault (SPEC §4, R-KEY-1/5; docs/mobile-key-app.md): sealed under the app
PIN, private file modes, atomic writes; a wrong PIN or an altered file is refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from securelogin_key.errors import NotActivated, Refused, VaultTampered, WrongPin
from securelogin_key.vault import UserKey, Vault, VaultFile, check_app_pin
from securelogin_key.wire import new_private_key, private_key_to_der

PIN = "4711"


def a_vault(*usernames: str) -> Vault:
    users = tuple(
        UserKey(
            username=name,
            device_id=f"dev-{name}",
            ocra_suite="OCRA-1:HOTP-SHA256-8:QN06",
            ocra_secret=name.encode() * 8,
        )
        for name in usernames or ("alice",)
    )
    return Vault(
        server="http://127.0.0.1:8000",
        app_id="app-1",
        server_public_key="server-key",
        private_key_der=private_key_to_der(new_private_key()),
        users=users,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "phone"


def test_R_KEY_1_the_vault_opens_with_the_app_pin_and_keeps_every_secret(home: Path) -> None:
    vault = a_vault("alice", "bob")
    VaultFile(home).save(vault, PIN)
    assert VaultFile(home).open(PIN) == vault


def test_R_KEY_1_the_vault_is_private_to_its_owner(home: Path) -> None:
    VaultFile(home).save(a_vault(), PIN)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "vault.json").stat().st_mode) == 0o600
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_R_KEY_1_no_secret_is_stored_in_the_clear(home: Path) -> None:
    vault = a_vault()
    VaultFile(home).save(vault, PIN)
    raw = (home / "vault.json").read_bytes()
    assert b"server-key" not in raw and b"alicealice" not in raw
    assert vault.private_key_der not in raw and PIN.encode() not in raw


def test_R_KEY_1_a_wrong_pin_is_refused_and_changes_nothing(home: Path) -> None:
    VaultFile(home).save(a_vault(), PIN)
    before = (home / "vault.json").read_bytes()
    with pytest.raises(WrongPin):
        VaultFile(home).open("4712")
    assert (home / "vault.json").read_bytes() == before


@pytest.mark.parametrize("field", ["server", "app_id"])
def test_R_KEY_1_an_altered_public_part_is_refused(home: Path, field: str) -> None:
    VaultFile(home).save(a_vault(), PIN)
    document = json.loads((home / "vault.json").read_text())
    document["public"][field] = "http://evil.example"
    (home / "vault.json").write_text(json.dumps(document))
    with pytest.raises(VaultTampered):
        VaultFile(home).open(PIN)


def test_R_KEY_1_an_altered_ciphertext_is_refused(home: Path) -> None:
    VaultFile(home).save(a_vault(), PIN)
    document = json.loads((home / "vault.json").read_text())
    sealed = document["ciphertext"]
    document["ciphertext"] = ("B" if sealed[5] == "A" else "A").join([sealed[:5], sealed[6:]])
    (home / "vault.json").write_text(json.dumps(document))
    with pytest.raises(VaultTampered):
        VaultFile(home).open(PIN)


def test_a_file_that_is_not_a_vault_is_refused(home: Path) -> None:
    home.mkdir()
    (home / "vault.json").write_text("[1, 2]")
    with pytest.raises(VaultTampered):
        VaultFile(home).open(PIN)
    with pytest.raises(NotActivated):
        VaultFile(home / "elsewhere").open(PIN)


def test_status_reads_the_public_part_without_the_pin(home: Path) -> None:
    VaultFile(home).save(a_vault("alice", "bob"), PIN)
    info = VaultFile(home).read_public()
    assert (info.server, info.app_id) == ("http://127.0.0.1:8000", "app-1")
    assert info.users == (("alice", "dev-alice"), ("bob", "dev-bob"))


def test_every_save_uses_a_fresh_salt_and_nonce(home: Path) -> None:
    vault = a_vault()
    VaultFile(home).save(vault, PIN)
    first = json.loads((home / "vault.json").read_text())
    VaultFile(home).save(vault, PIN)
    second = json.loads((home / "vault.json").read_text())
    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["nonce"] != second["nonce"]
    assert second["kdf"]["name"] == "argon2id"


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "١٢٣٤", ""])
def test_the_app_pin_is_4_to_6_digits(pin: str) -> None:
    with pytest.raises(Refused):
        check_app_pin(pin)
    for good in ("1234", "12345", "123456"):
        check_app_pin(good)


def test_a_vault_with_several_users_needs_a_username() -> None:
    vault = a_vault("alice", "bob")
    with pytest.raises(NotActivated, match="--username"):
        vault.user(None)
    assert vault.user("BOB").device_id == "dev-bob"
    with pytest.raises(NotActivated):
        vault.user("carol")
