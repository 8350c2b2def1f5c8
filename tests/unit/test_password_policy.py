"""R-LOGIN-2: Argon2id at OWASP parameters; 8-64 characters, a letter and a digit, not common."""

from __future__ import annotations

import pytest

from securelogin.adapters.security.passwords import Argon2Passwords
from securelogin.bootstrap import common_passwords, load_settings
from securelogin.domain.identity import PolicyViolation, check_password
from securelogin.errors import ConfigurationError

COMMON = common_passwords()


@pytest.mark.parametrize(
    "password",
    ["Short1a", "x" * 60 + "12345", "onlyletters", "1234567890", "password1", "Password1"],
)
def test_R_LOGIN_2_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(PolicyViolation):
        check_password(password, common=COMMON)


@pytest.mark.parametrize("password", ["Wonderland-2026", "a1" * 4, "Z9" + "y" * 62])
def test_R_LOGIN_2_passwords_within_the_policy_pass(password: str) -> None:
    assert check_password(password, common=COMMON) == password


def test_R_LOGIN_2_the_bundled_common_list_is_real() -> None:
    assert len(COMMON) >= 1000
    assert "password1" in COMMON


def test_R_LOGIN_2_hashes_are_argon2id_at_owasp_parameters() -> None:
    settings = load_settings(database_url="sqlite:///:memory:")
    hasher = Argon2Passwords(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    stored = hasher.hash("Wonderland-2026")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(stored, "Wonderland-2026")
    assert not hasher.verify(stored, "Wonderland-2027")


@pytest.mark.parametrize("field", [{"argon2_memory_kib": 8192}, {"argon2_time_cost": 1}])
def test_R_LOGIN_2_weaker_hash_settings_are_refused(field: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError, match="argon2"):
        load_settings(database_url="sqlite:///:memory:", **field)
