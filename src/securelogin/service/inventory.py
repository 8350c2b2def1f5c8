"""The hardware inventory (R-OPS-3): PSKC seed files in, devices assigned by serial.

``import_seed_file`` is all or nothing: the whole file is read, every seed checked against
the kind and the serials against the file and the database, before one commit writes
them.  Seeds are sealed exactly as ``admin import`` seals them (``device:{public_id}``),
so a device works the same whichever way it came in.
"""

from __future__ import annotations

import binascii
from collections import Counter
from dataclasses import dataclass, replace

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import HARDWARE_KINDS, DeviceKind, DeviceState
from securelogin.domain.identity import PolicyViolation, normalize_username
from securelogin.domain.importfile import DeviceSpec
from securelogin.domain.inventory import (
    PIN_RE,
    SeedProblem,
    check_seed,
    hardware_kind,
    seed_params,
)
from securelogin.errors import InvalidInput, NotFound, NotInStock
from securelogin.service.context import Services
from securelogin.service.importing import seal_device
from securelogin.service.ports import NewDevice, SeedRecord, UnitOfWork

ORIGIN = "pskc"
_CHUNK = 500  # serials per existence query (far below SQLite's bound-parameter limit)
_AES_KEY_SIZES = (16, 24, 32)


@dataclass(frozen=True, kw_only=True)
class StockReport:
    kind: DeviceKind
    count: int
    serials: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StockItem:
    serial: str
    kind: DeviceKind
    state: DeviceState
    assigned: bool
    needs_pin: bool  # a DSC+ takes its owner's PIN when assigned


@dataclass(frozen=True, kw_only=True)
class AssignedDevice:
    serial: str
    public_id: str
    kind: DeviceKind
    username: str
    state: DeviceState


def parse_kind(text: str) -> DeviceKind:
    """A hardware kind by name; InvalidInput(field="kind") naming the choices otherwise."""
    try:
        return hardware_kind(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="kind") from None


def decode_preshared_key(raw: bytes) -> bytes:
    """A pre-shared AES key file: hex text (32, 48 or 64 digits) or the raw 16/24/32 bytes."""
    text = b"".join(raw.split())
    try:
        decoded = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded and len(decoded) in _AES_KEY_SIZES:
        return decoded
    if len(raw) in _AES_KEY_SIZES:
        return raw
    raise InvalidInput(
        "the pre-shared key must be an AES key: 16, 24 or 32 bytes, raw or in hex",
        field="preshared_key",
    )


def seed_file_needs_password(services: Services, data: bytes) -> bool:
    return services.seed_files.needs_password(data)


def import_seed_file(
    services: Services,
    data: bytes,
    *,
    kind: DeviceKind,
    password: str | None,
    preshared_key: bytes | None,
    actor: str,
) -> StockReport:
    """Put every seed of a manufacturer's file in stock as ``kind``; all or nothing."""
    kind = parse_kind(str(kind))  # refuses kinds that are not hardware, naming the four
    # parsed (PBKDF2 and all) before the transaction opens
    records = services.seed_files.read(data, password=password, preshared_key=preshared_key)
    _check_records(kind, records)
    now = services.clock.now()
    with services.uow() as uow:
        _refuse_existing(uow, [r.serial for r in records])
        for record in records:
            uow.inventory.add_stock(_stock_device(services, kind, record), at=now)
        uow.audit.record(
            AuditEvent(
                action="inventory.imported",
                actor=actor,
                subject=str(kind),
                data={"kind": str(kind), "count": len(records), "origin": ORIGIN},
            )
        )
        uow.commit()
    return StockReport(kind=kind, count=len(records), serials=tuple(r.serial for r in records))


def _check_records(kind: DeviceKind, records: list[SeedRecord]) -> None:
    for record in records:
        try:
            check_seed(
                kind,
                serial=record.serial,
                seed_length=len(record.secret),
                algorithm=record.algorithm,
                digits=record.digits,
                time_interval=record.time_interval,
            )
        except SeedProblem as exc:
            raise InvalidInput(str(exc), field=exc.field, entry=exc.serial) from None
    twice = sorted(serial for serial, n in Counter(r.serial for r in records).items() if n > 1)
    if twice:
        first = twice[0]
        raise InvalidInput(
            f"{first}: serial: appears more than once in the file", field="serial", entry=first
        )


def _refuse_existing(uow: UnitOfWork, serials: list[str]) -> None:
    existing: set[str] = set()
    for start in range(0, len(serials), _CHUNK):
        existing |= uow.devices.existing_serials(serials[start : start + _CHUNK])
    if existing:
        first = sorted(existing)[0]
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise InvalidInput(
            f"{first}: serial: a device with this serial already exists{more}",
            field="serial",
            entry=first,
        )


def _stock_device(services: Services, kind: DeviceKind, record: SeedRecord) -> NewDevice:
    spec = DeviceSpec(kind=kind, serial=record.serial, secret=record.secret)
    sealed = seal_device(services, spec, owner_id=None, origin=ORIGIN)
    params = seed_params(
        kind,
        algorithm=record.algorithm,
        digits=record.digits,
        counter=record.counter,
        time_interval=record.time_interval,
        manufacturer=record.manufacturer,
    )
    return replace(sealed, state=DeviceState.IN_STOCK, params=params)


def stock_item(services: Services, serial: str) -> StockItem:
    """What the inventory knows of a serial (the CLI asks a DSC+ PIN only when needed)."""
    with services.uow() as uow:
        row = uow.inventory.by_serial(serial)
    if row is None:
        raise NotFound(f"no device with serial {serial}")
    return StockItem(
        serial=row.serial,
        kind=DeviceKind(row.kind),
        state=DeviceState(row.state),
        assigned=row.owner_id is not None,
        needs_pin=row.kind == DeviceKind.DSC_PLUS,
    )


def assign_device(
    services: Services, *, serial: str, username: str, actor: str, pin: str | None = None
) -> AssignedDevice:
    """Give an in-stock device to a user, active at once (R-OPS-3).  A DSC+ takes its
    owner's 4-digit PIN (an input of its OCRA suite, SPEC §2), sealed like an import's.

    The repository's guarded update, not the check below, is what keeps two concurrent
    assignments of one serial from both succeeding."""
    with services.uow() as uow:
        row = uow.inventory.by_serial(serial)
        if row is None:
            raise NotFound(f"no device with serial {serial}")
        if row.state != DeviceState.IN_STOCK or row.owner_id is not None:
            raise NotInStock(f"device {serial} is not in stock")
        kind = DeviceKind(row.kind)
        user = uow.users.by_username(_username(username))
        if user is None:
            raise NotFound(f"no user {username!r}")
        pin_secret = _sealed_pin(services, kind, pin, public_id=row.public_id)
        now = services.clock.now()
        uow.inventory.assign(
            serial=serial, user_id=user.id, state=DeviceState.ACTIVE, at=now, pin_secret=pin_secret
        )
        uow.audit.record(
            AuditEvent(
                action="device.assigned",
                actor=actor,
                subject=user.username,
                data={"device_id": row.public_id, "kind": str(kind), "serial": serial},
            )
        )
        uow.commit()
    return AssignedDevice(
        serial=serial,
        public_id=row.public_id,
        kind=kind,
        username=user.username,
        state=DeviceState.ACTIVE,
    )


def _username(text: str) -> str:
    try:
        return normalize_username(text)
    except PolicyViolation:
        raise NotFound(f"no user {text!r}") from None


def _sealed_pin(
    services: Services, kind: DeviceKind, pin: str | None, *, public_id: str
) -> bytes | None:
    if kind is not DeviceKind.DSC_PLUS:
        if pin is not None:
            raise InvalidInput(f"a {kind} keeps no PIN on the server", field="pin")
        return None
    if pin is None:
        raise InvalidInput("a dsc_plus needs its owner's 4-digit PIN", field="pin")
    if not PIN_RE.fullmatch(pin):
        raise InvalidInput("the PIN must be 4 digits", field="pin")
    return services.box.seal(pin.encode(), context=f"device-pin:{public_id}")


def stock_counts(services: Services, kind: DeviceKind | None = None) -> dict[DeviceKind, int]:
    """Devices in stock per hardware kind (or for one kind)."""
    kinds = HARDWARE_KINDS if kind is None else (parse_kind(str(kind)),)
    with services.uow() as uow:
        return {k: uow.inventory.count_in_stock(k) for k in kinds}
