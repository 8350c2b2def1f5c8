"""The hardware inventory on SQLite and PostgreSQL (SPEC §2, R-OPS-3).

PSKC files (RFC 6030) made with ``write_pskc`` go in all or nothing, their seeds sealed as
``admin import`` seals them; devices are then assigned by serial, once.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from securelogin.adapters.db import tables as t
from securelogin.adapters.pskc import PskcKey
from securelogin.adapters.pskc_writer import write_pskc
from securelogin.bootstrap import bootstrap
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.errors import Conflict, InvalidInput, NotFound
from securelogin.service import importing
from securelogin.service.context import Services
from securelogin.service.lifecycle import inventory
from tests.conftest import make_settings
from tests.dbutil import snapshot, url_of
from tests.fakes import FakeClock

TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
DSC_PLUS_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
CARD_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-8:QN08"
HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
    "$0b4Bc7xXyKq3m0cGk1nqkqQyGkXz9bF0mUq2PjN8kRk"
)
PEOPLE = {
    "entities": [
        {
            "id": "E-1",
            "kind": "organization",
            "name": "Chen Family Holdings LLC",
            "identification": {
                "citizenship": "US",
                "residence": "US",
                "document_type": "ein",
                "document_number": "98-7654321",
            },
        }
    ],
    "users": [
        {"username": "alice", "entity": "E-1", "password_hash": HASH},
        {"username": "bob", "entity": "E-1", "password_hash": HASH},
    ],
}


def seed_key(
    serial: str,
    *,
    algorithm: str = TOTP_URI,
    digits: int | None = 6,
    time_interval: int | None = 30,
    secret: bytes | None = None,
) -> PskcKey:
    return PskcKey(
        serial=serial,
        secret=secret or secrets.token_bytes(20),
        algorithm=algorithm,
        digits=digits,
        time_interval=time_interval,
        manufacturer="Acme Tokens",
        key_id=f"k-{serial}",
    )


def card_key(serial: str, *, algorithm: str = DSC_PLUS_URI) -> PskcKey:
    return seed_key(
        serial, algorithm=algorithm, digits=8, time_interval=None, secret=secrets.token_bytes(32)
    )


def device_rows(services: Services) -> dict[str, dict[str, object]]:
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        found = conn.execute(select(t.devices).order_by(t.devices.c.id))
        return {str(r.serial): dict(r._mapping) for r in found}


def audit_rows(services: Services) -> list[dict[str, object]]:
    with services.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        found = conn.execute(select(t.audit_events).order_by(t.audit_events.c.id))
        return [dict(r._mapping) for r in found]


def import_file(
    services: Services,
    keys: list[PskcKey],
    kind: DeviceKind = DeviceKind.DSC,
    *,
    password: str | None = None,
    file_password: str | None = None,
    preshared_key: bytes | None = None,
) -> inventory.StockReport:
    data = write_pskc(keys, password=file_password, preshared_key=preshared_key, iterations=1000)
    return inventory.import_seed_file(
        services,
        data,
        kind=kind,
        password=password,
        preshared_key=preshared_key,
        actor="test",
    )


def assert_no_seed_in_the_clear(services: Services, seeds: list[bytes]) -> None:
    cells = [v for rows in snapshot(url_of(services)).values() for row in rows for v in row]
    raw = b"".join(bytes(v) for v in cells if isinstance(v, bytes | memoryview))
    text = "\n".join(str(v) for v in cells if not isinstance(v, bytes | memoryview))
    assert raw, "the scan sees the sealed cells"
    for seed in seeds:
        assert seed not in raw
        assert seed.hex() not in text.lower()
        assert base64.b64encode(seed).decode() not in text


# --- import ------------------------------------------------------------------------------


def test_R_OPS_3_a_plain_pskc_file_puts_sealed_dsc_seeds_in_stock(services: Services) -> None:
    keys = [seed_key(f"DSC-{n:04}") for n in range(1, 4)]
    report = import_file(services, keys)
    assert (report.kind, report.count) == (DeviceKind.DSC, 3)
    rows = device_rows(services)
    assert sorted(rows) == ["DSC-0001", "DSC-0002", "DSC-0003"]
    for key in keys:
        row = rows[key.serial]
        assert (row["kind"], row["state"], row["owner_id"], row["origin"]) == (
            "dsc",
            "in_stock",
            None,
            "pskc",
        )
        assert row["activated_at"] is None and row["pin_secret"] is None
        sealed = row["secret"]
        assert isinstance(sealed, bytes)
        assert services.box.open(sealed, context=f"device:{row['public_id']}") == key.secret
        assert json.loads(str(row["params"])) == {
            "digits": 6,
            "manufacturer": "Acme Tokens",
            "period": 30,
            "pskc_algorithm": TOTP_URI,
        }
    assert_no_seed_in_the_clear(services, [k.secret for k in keys])
    events = [e for e in audit_rows(services) if e["action"] == "inventory.imported"]
    assert len(events) == 1 and events[0]["subject"] == "dsc"
    assert json.loads(str(events[0]["data"])) == {"count": 3, "kind": "dsc", "origin": "pskc"}
    assert inventory.stock_counts(services)[DeviceKind.DSC] == 3


def test_R_OPS_3_a_password_encrypted_pskc_file_imports_dsc_plus_seeds(
    services: Services,
) -> None:
    keys = [card_key("DSCP-0001"), card_key("DSCP-0002")]
    data = write_pskc(keys, password="Tr0ub4dor&3", iterations=1000)
    assert inventory.seed_file_needs_password(services, data)
    report = inventory.import_seed_file(
        services,
        data,
        kind=DeviceKind.DSC_PLUS,
        password="Tr0ub4dor&3",
        preshared_key=None,
        actor="test",
    )
    assert report.count == 2
    rows = device_rows(services)
    for key in keys:
        row = rows[key.serial]
        sealed = row["secret"]
        assert isinstance(sealed, bytes) and row["state"] == "in_stock"
        assert services.box.open(sealed, context=f"device:{row['public_id']}") == key.secret
        assert json.loads(str(row["params"]))["pskc_algorithm"] == DSC_PLUS_URI
    assert_no_seed_in_the_clear(services, [k.secret for k in keys])


def test_R_OPS_3_a_pre_shared_key_file_imports_gold_cards(services: Services) -> None:
    aes_key = secrets.token_bytes(16)
    keys = [card_key("GOLD-0001", algorithm=CARD_URI), card_key("GOLD-0002", algorithm=HOTP_URI)]
    data = write_pskc(keys, preshared_key=aes_key)
    assert not inventory.seed_file_needs_password(services, data)
    key_file = inventory.decode_preshared_key(aes_key.hex().encode() + b"\n")
    report = inventory.import_seed_file(
        services, data, kind=DeviceKind.GOLD_CARD, password=None, preshared_key=key_file, actor="t"
    )
    assert report.count == 2 and inventory.stock_counts(services, DeviceKind.GOLD_CARD) == {
        DeviceKind.GOLD_CARD: 2
    }


def test_R_OPS_3_a_wrong_password_is_refused_and_writes_nothing(services: Services) -> None:
    before = snapshot(url_of(services))
    with pytest.raises(InvalidInput, match=r"^PSKC: wrong password"):
        import_file(services, [seed_key("DSC-0001")], file_password="right", password="wrong")
    with pytest.raises(InvalidInput, match="encrypted with a password; none was given"):
        import_file(services, [seed_key("DSC-0001")], file_password="right")
    assert snapshot(url_of(services)) == before


def test_R_OPS_3_a_serial_twice_in_the_file_is_refused_whole(services: Services) -> None:
    before = snapshot(url_of(services))
    keys = [seed_key("DSC-0001"), seed_key("DSC-0002"), seed_key("DSC-0001")]
    with pytest.raises(InvalidInput, match=r"^DSC-0001: serial: appears more than once") as info:
        import_file(services, keys)
    assert info.value.entry == "DSC-0001"
    assert snapshot(url_of(services)) == before


def test_R_OPS_3_a_serial_already_in_the_database_is_refused_whole(services: Services) -> None:
    import_file(services, [seed_key("DSC-0002")])
    before = snapshot(url_of(services))
    with pytest.raises(InvalidInput, match=r"^DSC-0002: serial: a device with this serial"):
        import_file(services, [seed_key("DSC-0001"), seed_key("DSC-0002")])
    assert snapshot(url_of(services)) == before


@pytest.mark.parametrize("kind", ["sms", "totp_app", "mobile_key", "code_card"])
def test_R_OPS_3_only_hardware_kinds_come_from_seed_files(services: Services, kind: str) -> None:
    with pytest.raises(InvalidInput, match="not hardware from a seed file") as info:
        import_file(services, [seed_key("X-0001")], DeviceKind(kind))
    assert info.value.field == "kind"
    with pytest.raises(InvalidInput, match="unknown device kind 'rsa_token'"):
        inventory.parse_kind("rsa_token")


SEED_MISFITS = [
    ("short seed", seed_key("D-1", secret=b"0123456789"), DeviceKind.DSC, "secret"),
    (
        "HOTP seed for a dsc",
        seed_key("D-1", algorithm=HOTP_URI, time_interval=None),
        DeviceKind.DSC,
        "algorithm",
    ),
    ("8-digit dsc", seed_key("D-1", digits=8), DeviceKind.DSC, "digits"),
    ("TOTP seed for a card", seed_key("P-1"), DeviceKind.PLATINUM_CARD, "algorithm"),
    ("6-digit OCRA card", seed_key("P-1", algorithm=CARD_URI), DeviceKind.GOLD_CARD, "digits"),
    ("odd digits", seed_key("P-1", algorithm=CARD_URI, digits=7), DeviceKind.DSC_PLUS, "digits"),
]


@pytest.mark.parametrize(
    ("case", "key", "kind", "field"), SEED_MISFITS, ids=[c[0] for c in SEED_MISFITS]
)
def test_R_OPS_3_a_seed_that_does_not_fit_the_kind_is_refused(
    services: Services, case: str, key: PskcKey, kind: str, field: str
) -> None:
    before = snapshot(url_of(services))
    with pytest.raises(InvalidInput, match=f"^{key.serial}: {field}") as info:
        good = seed_key("OK-0001") if kind == DeviceKind.DSC else card_key("OK-0001")
        import_file(services, [good, key], DeviceKind(kind))
    assert info.value.entry == key.serial
    assert snapshot(url_of(services)) == before


# --- assignment ----------------------------------------------------------------------------


def test_R_OPS_3_an_assigned_device_is_active_for_its_user_and_cannot_be_assigned_again(
    services: Services, clock: FakeClock
) -> None:
    importing.import_data(services, PEOPLE)
    import_file(services, [seed_key("DSC-0001"), seed_key("DSC-0002")])
    clock.advance(hours=1)
    assigned = inventory.assign_device(services, serial="DSC-0001", username="Alice", actor="t")
    assert (assigned.kind, assigned.state, assigned.username) == (
        DeviceKind.DSC,
        DeviceState.ACTIVE,
        "alice",
    )
    row = device_rows(services)["DSC-0001"]
    assert row["state"] == "active" and row["activated_at"] == clock.now()
    with services.uow() as uow:
        alice = uow.users.by_username("alice")
        conn = uow.connection  # type: ignore[attr-defined]
        holders = conn.execute(select(t.device_users.c.user_id, t.device_users.c.device_id))
        assert alice is not None and row["owner_id"] == alice.id
        assert list(holders) == [(alice.id, row["id"])]
    event = audit_rows(services)[-1]
    assert (event["action"], event["subject"]) == ("device.assigned", "alice")
    assert inventory.stock_counts(services)[DeviceKind.DSC] == 1
    with pytest.raises(Conflict, match=r"^device DSC-0001 is not in stock$"):
        inventory.assign_device(services, serial="DSC-0001", username="bob", actor="t")
    with pytest.raises(NotFound, match="no device with serial DSC-9999"):
        inventory.assign_device(services, serial="DSC-9999", username="bob", actor="t")
    with pytest.raises(NotFound, match="no user 'carol'"):
        inventory.assign_device(services, serial="DSC-0002", username="carol", actor="t")


def test_R_OPS_3_the_storage_itself_refuses_to_assign_a_device_twice(services: Services) -> None:
    """The guard in the UPDATE, not the service's look-up, keeps a device with one owner."""
    importing.import_data(services, PEOPLE)
    import_file(services, [seed_key("DSC-0001")])
    inventory.assign_device(services, serial="DSC-0001", username="alice", actor="t")
    with services.uow() as uow:
        bob = uow.users.by_username("bob")
        assert bob is not None
        with pytest.raises(Conflict, match="not in stock"):
            uow.inventory.assign(
                serial="DSC-0001", user_id=bob.id, state="active", at=services.clock.now()
            )


def test_R_OPS_3_a_dsc_plus_needs_its_owners_pin_which_is_sealed(services: Services) -> None:
    importing.import_data(services, PEOPLE)
    import_file(services, [card_key("DSCP-0001")], DeviceKind.DSC_PLUS)
    assert inventory.stock_item(services, "DSCP-0001").needs_pin
    before = snapshot(url_of(services))
    with pytest.raises(InvalidInput, match="needs its owner's 4-digit PIN") as info:
        inventory.assign_device(services, serial="DSCP-0001", username="alice", actor="t")
    assert info.value.field == "pin"
    with pytest.raises(InvalidInput, match="4 digits"):
        inventory.assign_device(
            services, serial="DSCP-0001", username="alice", actor="t", pin="12345"
        )
    assert snapshot(url_of(services)) == before
    inventory.assign_device(services, serial="DSCP-0001", username="alice", actor="t", pin="4821")
    row = device_rows(services)["DSCP-0001"]
    pin = row["pin_secret"]
    assert isinstance(pin, bytes) and b"4821" not in pin
    assert services.box.open(pin, context=f"device-pin:{row['public_id']}") == b"4821"


def test_a_pin_for_a_kind_that_keeps_none_is_refused(services: Services) -> None:
    importing.import_data(services, PEOPLE)
    import_file(services, [seed_key("DSC-0001")])
    assert not inventory.stock_item(services, "DSC-0001").needs_pin
    with pytest.raises(InvalidInput, match="keeps no PIN"):
        inventory.assign_device(
            services, serial="DSC-0001", username="alice", actor="t", pin="1234"
        )


@pytest.mark.postgres
def test_R_OPS_3_two_concurrent_assignments_of_one_serial_cannot_both_win(
    pg_url: str, clock: FakeClock
) -> None:
    """Both transactions see the device in stock before either writes; exactly one wins.
    Without the ``state = 'in_stock' AND owner_id IS NULL`` guard both would."""
    services = bootstrap(make_settings(pg_url), migrate=True, clock=clock)
    try:
        importing.import_data(services, PEOPLE)
        import_file(services, [seed_key("DSC-0001")])
        with services.uow() as uow:
            ids = [
                u.id for u in (uow.users.by_username("alice"), uow.users.by_username("bob")) if u
            ]
        barrier = threading.Barrier(2, timeout=20)

        def attempt(user_id: int) -> str:
            with services.uow() as uow:
                row = uow.inventory.by_serial("DSC-0001")
                assert row is not None and row.state == "in_stock"
                barrier.wait()
                try:
                    uow.inventory.assign(
                        serial="DSC-0001", user_id=user_id, state="active", at=clock.now()
                    )
                except Conflict:
                    return "refused"
                uow.commit()
                return "assigned"

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(attempt, ids))
        assert outcomes == ["assigned", "refused"]
        with services.uow() as uow:
            conn = uow.connection  # type: ignore[attr-defined]
            assert len(list(conn.execute(select(t.device_users)))) == 1
    finally:
        services.database.close()
