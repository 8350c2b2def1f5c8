"""The soft key's vault (SPEC §4, R-KEY-1/5; docs/mobile-key-app.md): sealed under the app
PIN and the server's share (issue 12 §6), private file modes, atomic writes; an altered
file is refused; a format 1 vault still opens with its PIN alone."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from securelogin_key.errors import NotActivated, Refused, VaultTampered, WrongPin
from securelogin_key.vault import (
    Sealing,
    UserKey,
    Vault,
    VaultFile,
    check_app_pin,
)
from securelogin_key.wire import (
    b64url,
    new_private_key,
    private_key_to_der,
)
from tests.key_vault_kit import write_format_1

PIN = "4711"
#: one Argon2id run (≈ 0.2 s) for the whole module
SEALING = Sealing.fresh(PIN)


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
    VaultFile(home).save(vault, SEALING)
    assert VaultFile(home).open(SEALING) == vault


def test_R_KEY_1_the_vault_is_private_to_its_owner(home: Path) -> None:
    VaultFile(home).save(a_vault(), SEALING)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "vault.json").stat().st_mode) == 0o600
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_R_KEY_1_no_secret_is_stored_in_the_clear(home: Path) -> None:
    vault = a_vault()
    VaultFile(home).save(vault, SEALING)
    raw = (home / "vault.json").read_bytes()
    assert b"server-key" not in raw and b"alicealice" not in raw
    assert vault.private_key_der not in raw and PIN.encode() not in raw


def test_issue12_6_a_copied_vault_does_not_open_with_the_right_pin_without_the_share(
    home: Path,
) -> None:
    """The finding: a copied file plus PIN guesses is not enough, not even the right PIN."""
    vault = a_vault()
    VaultFile(home).save(vault, SEALING)
    copy = VaultFile(home)
    keys = copy.pin_keys(PIN)  # the right PIN
    assert keys.proof == SEALING.keys.proof  # what the server would be asked to compare
    for share in (bytes(32), b"\xff" * 32, SEALING.keys.pin_key):
        with pytest.raises(VaultTampered):
            copy.open(Sealing(keys=keys, share=share, token=SEALING.token))
    document = json.loads((home / "vault.json").read_text())
    assert "pin_check" not in document and b64url(SEALING.share) not in json.dumps(document)
    assert copy.open(Sealing(keys=keys, share=SEALING.share, token=copy.unlock_token())) == vault


def test_issue12_6_R_KEY_5_the_offline_secret_is_camouflaged_a_wrong_pin_gives_no_error(
    home: Path,
) -> None:
    """respond works without network, and no PIN guess stands out offline."""
    vault = a_vault("alice", "bob")
    VaultFile(home).save(vault, SEALING)
    right = VaultFile(home).offline_user(PIN, "bob")
    assert right == vault.user("bob")
    wrong = VaultFile(home).offline_user("4712", "bob")  # no error: nothing to check against
    assert wrong.ocra_secret != right.ocra_secret and len(wrong.ocra_secret) == 24


def test_issue12_6_a_format_1_vault_opens_with_its_pin_and_asks_for_an_upgrade(
    home: Path,
) -> None:
    vault = a_vault()
    write_format_1(home, vault, PIN)
    file = VaultFile(home)
    assert file.needs_upgrade()
    with pytest.raises(WrongPin):
        file.open_legacy("4712")
    assert file.open_legacy(PIN) == vault
    assert file.offline_user(PIN, None) == vault.user(None)
    file.save(vault, SEALING)
    assert not file.needs_upgrade() and file.open(SEALING) == vault


@pytest.mark.parametrize("field", ["server", "app_id"])
def test_R_KEY_1_an_altered_public_part_is_refused(home: Path, field: str) -> None:
    VaultFile(home).save(a_vault(), SEALING)
    document = json.loads((home / "vault.json").read_text())
    document["public"][field] = "http://evil.example"
    (home / "vault.json").write_text(json.dumps(document))
    with pytest.raises(VaultTampered):
        VaultFile(home).open(SEALING)


def test_R_KEY_1_an_altered_ciphertext_is_refused(home: Path) -> None:
    VaultFile(home).save(a_vault(), SEALING)
    document = json.loads((home / "vault.json").read_text())
    sealed = document["ciphertext"]
    document["ciphertext"] = ("B" if sealed[5] == "A" else "A").join([sealed[:5], sealed[6:]])
    (home / "vault.json").write_text(json.dumps(document))
    with pytest.raises(VaultTampered):
        VaultFile(home).open(SEALING)


def test_a_file_that_is_not_a_vault_is_refused(home: Path) -> None:
    home.mkdir()
    (home / "vault.json").write_text("[1, 2]")
    with pytest.raises(VaultTampered):
        VaultFile(home).open(SEALING)
    with pytest.raises(NotActivated):
        VaultFile(home / "elsewhere").open(SEALING)


def test_status_reads_the_public_part_without_the_pin(home: Path) -> None:
    VaultFile(home).save(a_vault("alice", "bob"), SEALING)
    info = VaultFile(home).read_public()
    assert (info.server, info.app_id) == ("http://127.0.0.1:8000", "app-1")
    assert info.users == (("alice", "dev-alice"), ("bob", "dev-bob"))


def test_every_save_uses_a_fresh_nonce_and_every_new_pin_a_fresh_salt(home: Path) -> None:
    vault = a_vault()
    VaultFile(home).save(vault, SEALING)
    first = json.loads((home / "vault.json").read_text())
    assert first["kdf"]["salt"] == SEALING.keys.kdf["salt"]
    VaultFile(home).save(vault, Sealing.fresh(PIN))
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
