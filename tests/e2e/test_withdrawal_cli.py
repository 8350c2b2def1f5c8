"""``securelogin admin service-key create|revoke`` and ``admin funds deposit`` (issue 5),
through the real command: printed once, stored hashed, one-line errors, exit codes."""

from __future__ import annotations

import hashlib

from securelogin.bootstrap import bootstrap
from securelogin.service.funds import restrictions
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.e2e.cli import invoke_cli, run_cli
from tests.withdrawal_kit import ACCOUNT, load


def test_R_RESTRICT_1_a_service_key_is_printed_once_and_stored_hashed(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    services = bootstrap(make_settings(sqlite_url), migrate=True)
    try:
        load(services, {"petra": ["dsc"]})
    finally:
        services.database.close()
    created = run_cli("admin", "service-key", "create", "trading-platform",
                      "--database-url", sqlite_url, env=cli_env)  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("slk_") and len(key) >= 40
    stored = scalar(sqlite_url, "SELECT key_hash FROM service_keys")
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    services = bootstrap(make_settings(sqlite_url), migrate=False)
    try:
        found = restrictions.restrictions_for(services, bearer=key, username="petra")
        assert found.tier.rank == 3 and found.sls_participant
    finally:
        services.database.close()
    twice = invoke_cli("admin", "service-key", "create", "trading-platform",
                    "--database-url", sqlite_url, env=cli_env)  # fmt: skip
    assert twice.returncode != 0 and "exists already" in twice.stderr
    assert "Traceback" not in twice.stderr and len(twice.stderr.strip().splitlines()) == 1
    revoked = invoke_cli("admin", "service-key", "revoke", "trading-platform",
                      "--database-url", sqlite_url, env=cli_env)  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    assert scalar(sqlite_url, "SELECT revoked_at IS NOT NULL FROM service_keys") == 1


def test_admin_funds_deposit_credits_the_ledger_and_refuses_bad_amounts(
    sqlite_url: str, cli_env: dict[str, str]
) -> None:
    services = bootstrap(make_settings(sqlite_url), migrate=True)
    try:
        load(services, {"petra": ["dsc"]}, cash="100.00")
    finally:
        services.database.close()
    done = run_cli("admin", "funds", "deposit", ACCOUNT, "2500.50",
                   "--database-url", sqlite_url, env=cli_env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "USD 2,600.50"
    for bad in ("-1", "0.001", "abc", "1e30"):
        refused = invoke_cli("admin", "funds", "deposit", ACCOUNT, bad,
                          "--database-url", sqlite_url, env=cli_env)  # fmt: skip
        assert refused.returncode != 0 and "amount" in refused.stderr, bad
        assert "Traceback" not in refused.stderr
    unknown = invoke_cli("admin", "funds", "deposit", "U0000000", "1.00",
                      "--database-url", sqlite_url, env=cli_env)  # fmt: skip
    assert unknown.returncode != 0 and "No such account" in unknown.stderr
    assert scalar(sqlite_url, "SELECT balance_cents FROM accounts") == 260050
