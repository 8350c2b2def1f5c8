"""Secrets at rest (SPEC §9): AES-GCM bound to its row, key ids for rotation, 0600 key files."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from securelogin.adapters.security.secretbox import (
    AesGcmSecretBox,
    parse_keys,
    read_or_create_key_file,
)
from securelogin.errors import ConfigurationError, IntegrityViolation

OLD, NEW = b"\x01" * 32, b"\x02" * 32


def test_a_sealed_secret_opens_only_in_its_own_context() -> None:
    box = AesGcmSecretBox([NEW])
    blob = box.seal(b"seed", context="device:dev_1")
    assert b"seed" not in blob and box.open(blob, context="device:dev_1") == b"seed"
    with pytest.raises(IntegrityViolation):
        box.open(blob, context="device:dev_2")


def test_a_flipped_bit_is_detected() -> None:
    box = AesGcmSecretBox([NEW])
    blob = bytearray(box.seal(b"seed", context="c"))
    blob[-1] ^= 1
    with pytest.raises(IntegrityViolation):
        box.open(bytes(blob), context="c")


def test_after_rotation_old_secrets_still_open_and_new_ones_use_the_new_key() -> None:
    old_blob = AesGcmSecretBox([OLD]).seal(b"seed", context="c")
    rotated = AesGcmSecretBox([NEW, OLD])
    assert rotated.open(old_blob, context="c") == b"seed"
    new_blob = rotated.seal(b"seed", context="c")
    with pytest.raises(ConfigurationError, match="not configured"):
        AesGcmSecretBox([OLD]).open(new_blob, context="c")


def test_fingerprints_are_keyed_and_separated_by_purpose() -> None:
    box = AesGcmSecretBox([NEW])
    assert box.fingerprint(b"x", purpose="a") == box.fingerprint(b"x", purpose="a")
    assert box.fingerprint(b"x", purpose="a") != box.fingerprint(b"x", purpose="b")
    assert box.fingerprint(b"x", purpose="a") != AesGcmSecretBox([OLD]).fingerprint(
        b"x", purpose="a"
    )


def test_a_development_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "dev.key"
    keys = read_or_create_key_file(path, create=True)
    assert len(keys[0]) == 32 and (path.stat().st_mode & 0o777) == 0o600
    assert read_or_create_key_file(path, create=False) == keys


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(base64.b64encode(NEW).decode())
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        read_or_create_key_file(path, create=False)


@pytest.mark.parametrize("text", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_master_key_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_keys(text)
