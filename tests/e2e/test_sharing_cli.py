"""``securelogin admin share-requests list|approve|reject`` as a real command (R-SHARE-4,
R-OPS-2): one line per request, a decision once, stable refusals, exit codes."""

from __future__ import annotations

from pathlib import Path

from securelogin.bootstrap import bootstrap
from securelogin.domain.operators import Role
from securelogin.service.lifecycle import sharing
from securelogin.service.operators import operators
from tests.conftest import make_settings
from tests.dbutil import scalar
from tests.e2e.cli import invoke_cli, run_cli
from tests.fakes import FakeClock
from tests.integration.sharing_data import (
    PASSWORD,
    answer,
    code_card,
    devices_of,
    dsc_plus,
    load,
    user,
    user_id,
)


def pending_request(url: str) -> str:
    clock = FakeClock()
    services = bootstrap(make_settings(url), migrate=True, clock=clock)
    try:
        load(
            services,
            user("alice", "E-A", "U1000001", dsc_plus("DP-A")),
            user("twin", "E-T", "U2000001", code_card("SCC-T")),
        )
        for name, role in (("cora", Role.COMPLIANCE), ("helen", Role.HELPDESK)):
            operators.create_operator(
                services, username=name, password="Operator-Pass-77", roles=frozenset({role})
            )
        twin = user_id(services, "twin")
        started = sharing.start_share(
            services, requester_id=twin, owner_username="alice", owner_password=PASSWORD
        )
        sharing.answer_share(
            services,
            requester_id=twin,
            request_id=started.request_id,
            response=answer(
                services, started.factor, devices_of(services, "alice")[0], clock.now()
            ),
        )
        return started.request_id
    finally:
        services.database.close()


def test_R_SHARE_4_compliance_decides_from_the_command_line(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path}/sl.db"
    request_id = pending_request(url)
    db = ["--database-url", url]

    listed = run_cli("admin", "share-requests", "list", "--operator", "cora", *db, env=cli_env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{request_id}\tpending_compliance\ttwin <- alice\tdsc_plus")

    helpdesk = invoke_cli(
        "admin", "share-requests", "approve", request_id, "--operator", "helen",
        "--reason", "ok", *db, env=cli_env,
    )  # fmt: skip
    assert helpdesk.returncode == 1 and "lacks the compliance role" in helpdesk.stderr
    assert "Traceback" not in helpdesk.stderr

    approved = run_cli(
        "admin", "share-requests", "approve", request_id, "--operator", "cora",
        "--reason", "same person", *db, env=cli_env,
    )  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == f"share request {request_id} approved"

    again = invoke_cli(
        "admin", "share-requests", "reject", request_id, "--operator", "cora",
        "--reason", "changed my mind", *db, env=cli_env,
    )  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.strip() == ("securelogin: This share request is not waiting for a decision")
    decided = scalar(url, "SELECT decided_by || ':' || reason FROM share_requests")
    assert decided == "operator:cora:same person"

    done = invoke_cli(
        "admin", "share-requests", "list", "--operator", "cora", "--status", "approved",
        *db, env=cli_env,
    )  # fmt: skip
    assert request_id in done.stdout and "operator:cora\tsame person" in done.stdout
    empty = invoke_cli("admin", "share-requests", "list", "--operator", "cora", *db, env=cli_env)
    assert empty.returncode == 0 and empty.stdout == ""
