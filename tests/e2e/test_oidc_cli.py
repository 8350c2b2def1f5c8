"""``securelogin admin oidc-client create|list|revoke`` as real commands (SPEC §10.2a):
``key: value`` lines, the secret once and hashed at rest; the refusals in process."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from securelogin.errors import InvalidInput, NotFound
from securelogin.service.context import Services
from securelogin.service.oidc import clients
from tests.dbutil import scalar
from tests.e2e.cli import invoke_cli, run_cli


def test_SPEC_10_2a_oidc_client_create_list_revoke(tmp_path: Path, cli_env: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    made = run_cli(
        "admin", "oidc-client", "create", "Trading platform",
        "--redirect-uri", "https://trade.example/cb",
        "--redirect-uri", "http://127.0.0.1:8765/cb",
        "--database-url", url,
        env=cli_env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    lines = dict(line.split(": ", 1) for line in made.stdout.splitlines())
    assert set(lines) == {"client_id", "client_secret"}
    client_id, secret = lines["client_id"], lines["client_secret"]
    stored = scalar(url, "SELECT secret_hash FROM oidc_clients WHERE client_id = :c", c=client_id)
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    listed = run_cli("admin", "oidc-client", "list", "--database-url", url, env=cli_env)
    assert listed.returncode == 0
    assert listed.stdout.split("\t")[:4] == [
        client_id,
        "active",
        "confidential",
        "Trading platform",
    ]
    assert secret not in listed.stdout
    revoked = run_cli(
        "admin", "oidc-client", "revoke", client_id, "--database-url", url, env=cli_env
    )
    assert revoked.returncode == 0 and client_id in revoked.stderr
    # the refusal as the command says it, in this process (one subprocess per command)
    again = invoke_cli(
        "admin", "oidc-client", "revoke", client_id, "--database-url", url, env=cli_env
    )
    assert again.returncode != 0 and again.stderr.startswith("securelogin: no active")
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    "uris",
    [
        [],
        ["http://rp.example/cb"],  # http only for loopback hosts
        ["https://rp.example/cb#frag"],
        ["rp.example/cb"],
        ["javascript:alert(1)"],
    ],
)
def test_SPEC_10_2a_a_client_needs_exact_absolute_https_redirect_uris(
    services: Services, uris: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        clients.create_client(services, name="RP", redirect_uris=uris)
    assert refused.value.field == "redirect_uri"
    assert clients.list_clients(services) == []


def test_SPEC_10_2a_a_public_client_has_no_secret_and_revoking_twice_is_not_found(
    services: Services,
) -> None:
    made = clients.create_client(
        services, name="Mobile app", redirect_uris=["https://app.example/cb"], public=True
    )
    assert made.client_secret is None
    clients.revoke_client(services, made.client_id)
    with pytest.raises(NotFound):
        clients.revoke_client(services, made.client_id)
