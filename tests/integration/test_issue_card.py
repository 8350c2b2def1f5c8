"""Issuing a security code card on SQLite and PostgreSQL (SPEC §3, R-LOST-2).

The values leave the service once, in its result: the database keeps keyed hashes that
verify them, and no table holds a value in the clear.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from securelogin.adapters.db import tables as t
from securelogin.bootstrap import bootstrap
from securelogin.config import Settings
from securelogin.domain.cards import generate_card
from securelogin.errors import InvalidInput, NotFound
from securelogin.service import importing
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards
from tests.dbutil import snapshot, url_of
from tests.fakes import FakeClock

PEOPLE = {
    "entities": [{"id": "E-1", "name": "Alice Chen", "identification": {"ssn": "123-45-6789"}}],
    "users": [{"username": "alice", "entity": "E-1", "password": "Wonderland-2026"}],
}
SEED = 20261123


class SeededRandom:
    """Reproducible randomness, so that the scan for values in the clear cannot flake."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)


@pytest.fixture
def seeded(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    wired = bootstrap(settings, migrate=True, clock=clock, random=SeededRandom(SEED))
    importing.import_data(wired, PEOPLE)
    yield wired
    wired.database.close()


def rows(services: Services, table: t.Table) -> list[dict[str, object]]:
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        return [dict(r._mapping) for r in conn.execute(select(table))]


def every_cell(services: Services) -> list[str]:
    """Every text cell of every table (binary cells as Latin-1; numbers and times are
    not secrets, and a numeric value such as "136" would match a position number)."""
    engine = services.database.engine  # type: ignore[attr-defined]
    cells: list[str] = []
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            table = t.metadata.tables.get(name)
            if table is None:
                continue
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        cells.append(bytes(value).decode("latin-1"))
                    elif isinstance(value, str):
                        cells.append(value)
    return cells


def standalone(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


def test_SPEC_3_an_issued_card_is_stored_as_hashes_that_verify_the_returned_values(
    seeded: Services,
) -> None:
    issued = cards.issue_code_card(seeded, username="alice", actor="test")
    assert issued.values == generate_card(random.Random(SEED).randrange)  # drawn by the port
    assert re.fullmatch(r"SCC-[0-9A-F]{8}", issued.serial or "")
    device = next(r for r in rows(seeded, t.devices) if r["public_id"] == issued.device_id)
    assert (device["kind"], device["state"], device["serial"]) == (
        "code_card",
        "active",
        issued.serial,
    )
    assert device["expires_at"] is None and json.loads(str(device["params"])) == {"positions": 200}
    stored = {r["position"]: r["value_hash"] for r in rows(seeded, t.card_values)}
    assert sorted(stored) == list(range(1, 201))
    for position, value in issued.values.items():
        purpose = f"card:{issued.device_id}:{position}"
        assert stored[position] == seeded.box.fingerprint(value.encode(), purpose=purpose)
    printable = issued.printable
    assert (printable.serial, printable.holder, printable.issued.isoformat()) == (
        issued.serial,
        "alice",
        "2026-11-23",
    )
    assert printable.values == issued.values and not printable.online


def test_SPEC_3_no_table_holds_a_card_value_in_the_clear(seeded: Services) -> None:
    issued = cards.issue_code_card(seeded, username="alice", actor="test")
    cells = every_cell(seeded)
    assert any(issued.device_id in c for c in cells)  # the scan does see the new rows
    for value in issued.values.values():
        pattern = standalone(value)
        assert not any(pattern.search(c) for c in cells), f"{value} found in the clear"
    joined = "".join(issued.values[p] for p in sorted(issued.values))
    assert not any(joined[:12] in c for c in cells)


def test_R_OPS_6_issuing_a_card_is_audited_without_its_values(seeded: Services) -> None:
    issued = cards.issue_code_card(seeded, username="Alice", actor="cli:admin")
    event = next(r for r in rows(seeded, t.audit_events) if r["action"] == "device.issued")
    assert (event["actor"], event["subject"]) == ("cli:admin", "alice")
    assert json.loads(str(event["data"])) == {
        "device_id": issued.device_id,
        "kind": "code_card",
        "serial": issued.serial,
        "positions": 200,
        "expires_at": None,
    }


def test_R_LOST_2_an_online_card_has_no_serial_and_expires_after_21_days(
    seeded: Services, clock: FakeClock
) -> None:
    issued = cards.issue_code_card(seeded, username="alice", actor="test", online=True)
    assert issued.serial is None and issued.printable.online
    assert issued.printable.serial == issued.device_id
    assert issued.printable.expires is not None
    assert issued.printable.expires.isoformat() == "2026-12-14"
    device = next(r for r in rows(seeded, t.devices) if r["public_id"] == issued.device_id)
    assert (device["kind"], device["state"], device["serial"]) == (
        "online_code_card",
        "pending_activation",
        None,
    )
    assert device["expires_at"] == clock.now() + timedelta(days=21)
    assert device["activated_at"] is None


def test_cards_get_distinct_serials_and_the_configured_size(seeded: Services) -> None:
    first = cards.issue_code_card(seeded, username="alice", actor="test")
    second = cards.issue_code_card(seeded, username="alice", actor="test", positions=50)
    assert first.serial != second.serial and len(second.values) == 50
    with pytest.raises(InvalidInput, match="between 2 and 300 positions"):
        cards.issue_code_card(seeded, username="alice", actor="test", positions=301)


@pytest.mark.parametrize("username", ["nobody", "x", "<script>"])
def test_an_unknown_user_gets_not_found_and_nothing_is_written(
    seeded: Services, username: str
) -> None:
    before = snapshot(url_of(seeded))
    with pytest.raises(NotFound, match=r"^unknown user$"):
        cards.issue_code_card(seeded, username=username, actor="test")
    assert snapshot(url_of(seeded)) == before


def test_the_printer_port_renders_the_issued_card(seeded: Services) -> None:
    issued = cards.issue_code_card(seeded, username="alice", actor="test")
    printed = cards.print_card(seeded, issued.printable)
    assert printed.pdf.startswith(b"%PDF-")
    assert f"Serial {issued.serial}" in printed.html
