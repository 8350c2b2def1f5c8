"""``admin import`` on SQLite and PostgreSQL: round trip, all-or-nothing, secrets at rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from securelogin.adapters.db import tables as t
from securelogin.errors import ImportRejected
from securelogin.service import importing
from securelogin.service.context import Services
from tests.dbutil import snapshot, url_of

SAMPLE_PATH = Path(__file__).parents[1] / "data" / "spec-sample.yaml"
SAMPLE = yaml.safe_load(SAMPLE_PATH.read_text())


def rows(services: Services, table: t.Table) -> list[dict[str, object]]:
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c[0]))]


def test_import_round_trip_reads_back_every_entry(services: Services) -> None:
    summary = importing.import_data(services, SAMPLE)
    assert (summary.entities, summary.accounts, summary.users, summary.devices) == (2, 2, 2, 7)
    entity = rows(services, t.entities)[0]
    ident = json.loads(services.box.open(entity["identification"], context="entity:E-1"))
    assert ident["ssn"] == "123-45-6789" and ident["date_of_birth"] == "1980-01-02"
    balances = {r["number"]: r["balance_cents"] for r in rows(services, t.accounts)}
    assert balances == {"U1000001": 250_000_000, "U1000002": 56_789}
    users = {r["username"]: r for r in rows(services, t.users)}
    assert services.passwords.verify(str(users["alice"]["password_hash"]), "Wonderland-2026")
    assert users["bob"]["password_hash"] == SAMPLE["users"][1]["password_hash"]
    grants = {(r["user_id"], r["rights"]) for r in rows(services, t.grants)}
    assert (users["alice"]["id"], "security_settings trade withdraw") in grants
    devices = {r["serial"] or r["kind"]: r for r in rows(services, t.devices)}
    dsc = devices["DSC-0001"]
    seed = services.box.open(dsc["secret"], context=f"device:{dsc['public_id']}")
    assert seed == b"12345678901234567890" and dsc["state"] == "active"
    dscp = devices["DSCP-0001"]
    assert (
        services.box.open(dscp["pin_secret"], context=f"device-pin:{dscp['public_id']}") == b"1234"
    )
    assert json.loads(str(devices["sms"]["params"])) == {"phone": "+15551230001"}
    card = devices["SCC-0001"]
    hashes = {r["position"]: r["value_hash"] for r in rows(services, t.card_values)}
    assert hashes[2] == services.box.fingerprint(b"Z3V", purpose=f"card:{card['public_id']}:2")
    actions = [r["action"] for r in rows(services, t.audit_events)]
    assert actions.count("device.enrolled") == 7 and actions.count("user.created") == 2


def test_the_same_identification_gives_the_same_fingerprint(services: Services) -> None:
    twin = {"entities": [dict(SAMPLE["entities"][0], id="E-TWIN")]}
    importing.import_data(services, {"entities": SAMPLE["entities"][:1]})
    importing.import_data(services, twin)
    fps = [r["identification_fp"] for r in rows(services, t.entities)]
    assert len(fps) == 2 and fps[0] == fps[1]


def test_a_second_import_of_the_same_file_is_refused_and_writes_nothing(
    services: Services, settings: object
) -> None:
    importing.import_data(services, SAMPLE)
    before = snapshot(url_of(services))
    with pytest.raises(ImportRejected, match=r"entities\[0\]: id: entity 'E-1' already exists"):
        importing.import_data(services, SAMPLE)
    assert snapshot(url_of(services)) == before
