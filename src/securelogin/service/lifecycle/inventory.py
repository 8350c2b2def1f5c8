"""The hardware inventory (R-OPS-3): PSKC seed files in, devices assigned by serial.

``import_seed_file`` is all or nothing: the whole file is read, every seed checked against
the kind and the serials against the file and the database, before one commit writes
them.  Seeds are sealed exactly as ``admin import`` seals them (``device:{public_id}``),
so a device works the same whichever way it came in.

The operator console goes through ``stock_seed_file`` (role ``logistics``, audited as
``operator:<name>``, files up to ``MAX_SEED_FILE_BYTES``) and ``stock_overview`` (per
kind: in stock, assigned and waiting to ship, shipped and not yet activated).
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
from securelogin.domain.operators import Operator, Role, require_role
from securelogin.errors import InvalidInput, NotFound, NotInStock
from securelogin.service.context import Services
from securelogin.service.importing import seal_device
from securelogin.service.ports import NewDevice, SeedRecord, UnitOfWork

ORIGIN = "pskc"
_CHUNK = 500  # serials per existence query (far below SQLite's bound-parameter limit)
_AES_KEY_SIZES = (16, 24, 32)
#: the largest seed file the console takes: a key package is ~0.7 KB plain and ~1 KB
#: encrypted (measured with ``write_pskc``), so 5 MB holds ~5,000 devices; larger batches
#: go through ``securelogin admin import-pskc`` or are split
MAX_SEED_FILE_BYTES = 5 * 1024 * 1024
#: a pre-shared key file holds 16-32 bytes, or their hex with a line end
MAX_KEY_FILE_BYTES = 256


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


@dataclass(frozen=True, kw_only=True)
class StockLine:
    """One hardware kind on the logistics page: devices in stock (unassigned), assigned
    to a replacement request and waiting to ship (``ordered``), shipped and not yet
    activated (``shipped``)."""

    kind: DeviceKind
    in_stock: int
    assigned: int
    shipped: int


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


def oversized_seed_file() -> InvalidInput:
    """The refusal of a seed file larger than ``MAX_SEED_FILE_BYTES`` (``file_size``);
    an entry point that stops reading an upload early raises it too."""
    mib = MAX_SEED_FILE_BYTES // (1024 * 1024)
    return InvalidInput(f"the seed file is larger than {mib} MB", field="file_size")


def stock_seed_file(
    services: Services,
    operator: Operator,
    data: bytes,
    *,
    kind: str,
    password: str | None,
    preshared_key: bytes | None,
) -> StockReport:
    """The console's import (R-OPS-3): the role first (nothing read, nothing written
    without it), then :func:`import_seed_file` audited as ``operator:<name>``."""
    require_role(operator, Role.LOGISTICS)
    hardware = parse_kind(kind)
    if len(data) > MAX_SEED_FILE_BYTES:
        raise oversized_seed_file()
    if not data.strip():
        raise InvalidInput("choose the manufacturer's PSKC file", field="file")
    return import_seed_file(
        services,
        data,
        kind=hardware,
        password=password,
        preshared_key=preshared_key,
        actor=operator.actor,
    )


def stock_overview(services: Services, operator: Operator) -> list[StockLine]:
    """Per hardware kind: in stock, assigned (waiting to ship), shipped (read only)."""
    require_role(operator, Role.LOGISTICS)
    states = (DeviceState.IN_STOCK, DeviceState.ORDERED, DeviceState.SHIPPED)
    with services.uow() as uow:
        counts = uow.inventory.count_by_state(HARDWARE_KINDS, states)
    return [
        StockLine(
            kind=kind,
            in_stock=counts.get((kind, DeviceState.IN_STOCK), 0),
            assigned=counts.get((kind, DeviceState.ORDERED), 0),
            shipped=counts.get((kind, DeviceState.SHIPPED), 0),
        )
        for kind in HARDWARE_KINDS
    ]
