"""The import file of SPEC §10.3, checked whole before anything is written.

``plan_import`` turns the decoded YAML/JSON mapping into an :class:`ImportPlan` of
plain values, or raises :class:`ImportProblem` naming the entry and the field.  Pure:
what already exists in the database is checked by the service.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from securelogin.domain.devices.catalogue import CARD_KINDS, HARDWARE_KINDS, DeviceKind
from securelogin.domain.identity import (
    ACCOUNT_RE,
    COUNTRY_RE,
    EntityKind,
    Identification,
    PolicyViolation,
    Right,
    check_password,
    check_phone,
    normalize_username,
)
from securelogin.domain.money import MoneyError, parse_usd

V = TypeVar("V")
R = TypeVar("R")

CARD_VALUE_RE = re.compile(r"^[A-Z0-9]{3}$")
TEMP_CODE_RE = re.compile(r"^[A-Z]{12}$")
PIN_RE = re.compile(r"^[0-9]{4}$")
ARGON2_RE = re.compile(r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
#: kinds that need a live enrolment (an app key pair, a WebAuthn ceremony): not importable
NOT_IMPORTABLE = {DeviceKind.MOBILE_KEY, DeviceKind.PASSKEY}


class ImportProblem(ValueError):
    """One entry of the file is wrong; ``entry`` and ``field`` say where."""

    def __init__(self, entry: str, field_name: str, problem: str) -> None:
        super().__init__(f"{entry}: {field_name}: {problem}")
        self.entry = entry
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True, kw_only=True)
class EntitySpec:
    external_id: str
    kind: EntityKind
    name: str
    identification: Identification


@dataclass(frozen=True, kw_only=True)
class AccountSpec:
    number: str
    entity_ref: str
    cash: Decimal


@dataclass(frozen=True, kw_only=True)
class GrantSpec:
    account_ref: str
    rights: frozenset[Right]


@dataclass(frozen=True, kw_only=True)
class DeviceSpec:
    kind: DeviceKind
    serial: str | None = None
    label: str | None = None
    secret: bytes | None = None
    pin: str | None = None
    phone: str | None = None
    code: str | None = None
    card_values: Mapping[int, str] = field(default_factory=dict)
    #: an online card's end (R-LOST-2); None: the service gives it 21 days from the import
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    username: str
    entity_ref: str
    password: str | None
    password_hash: str | None
    phone: str | None
    opted_out: bool
    grants: tuple[GrantSpec, ...]
    devices: tuple[DeviceSpec, ...]


@dataclass(frozen=True, kw_only=True)
class ImportPlan:
    entities: tuple[EntitySpec, ...]
    accounts: tuple[AccountSpec, ...]
    users: tuple[UserSpec, ...]

    def serials(self) -> list[str]:
        return [d.serial for u in self.users for d in u.devices if d.serial]


class _Entry:
    """Reads fields of one mapping, turning every failure into an ImportProblem."""

    def __init__(self, name: str, raw: object, *, prefix: str = "") -> None:
        self.name = name
        self.prefix = prefix
        if not isinstance(raw, Mapping):
            raise self.fail("(entry)" if not prefix else "", "must be a mapping")
        self.raw: Mapping[str, object] = raw

    def fail(self, field_name: str, problem: str) -> ImportProblem:
        return ImportProblem(self.name, (self.prefix + field_name).rstrip("."), problem)

    def text(self, key: str, *, required: bool = True, max_len: int = 200) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        if len(value) > max_len or not value.isprintable():
            raise self.fail(key, f"must be at most {max_len} printable characters")
        return value.strip()

    def need(self, key: str, *, max_len: int = 200) -> str:
        value = self.text(key, max_len=max_len)
        assert value is not None  # noqa: S101 - text(required=True) never returns None
        return value

    def check(self, key: str, value: V, rule: Callable[[V], R]) -> R:
        try:
            return rule(value)
        except (PolicyViolation, MoneyError, ValueError) as exc:
            raise self.fail(key, str(exc)) from exc


def _as_list(raw: Mapping[str, object], key: str, entry: str) -> list[object]:
    value = raw.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportProblem(entry, key, "must be a list")
    return value


def _date(value: object) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError("must be a date YYYY-MM-DD")


def _country(value: object) -> str:
    if not isinstance(value, str) or not COUNTRY_RE.fullmatch(value):
        raise ValueError("must be a two-letter ISO country code")
    return value


def _identification(entry: _Entry) -> Identification:
    raw = entry.raw.get("identification") or {}
    if not isinstance(raw, Mapping):
        raise entry.fail("identification", "must be a mapping")
    known = {"date_of_birth", "citizenship", "residence", "document_type", "document_number", "ssn"}
    for key in raw:
        if key not in known:
            raise entry.fail(f"identification.{key}", "is not a known field")
    values: dict[str, object] = {}
    for key in ("citizenship", "residence"):
        if raw.get(key) is not None:
            values[key] = entry.check(f"identification.{key}", raw[key], _country)
    if raw.get("date_of_birth") is not None:
        dob = entry.check("identification.date_of_birth", raw["date_of_birth"], _date)
        values["date_of_birth"] = dob
    for key in ("document_type", "document_number", "ssn"):
        if raw.get(key) is not None:
            if not isinstance(raw[key], str | int):
                raise entry.fail(f"identification.{key}", "must be a string")
            values[key] = str(raw[key])
    if values.get("ssn") and not re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", str(values["ssn"])):
        raise entry.fail("identification.ssn", "must be 9 digits such as 123-45-6789")
    return Identification(**values)  # type: ignore[arg-type]


def _entity(index: int, raw: object) -> EntitySpec:
    entry = _Entry(f"entities[{index}]", raw)
    external_id = entry.need("id", max_len=64)
    entry.name = f"entities[{index}] ({external_id})"
    kind = entry.check("kind", entry.text("kind", required=False) or "individual", EntityKind)
    return EntitySpec(
        external_id=external_id,
        kind=kind,
        name=entry.need("name"),
        identification=_identification(entry),
    )


def _account_number(value: str) -> str:
    if not ACCOUNT_RE.fullmatch(value):
        raise ValueError("must look like U1234567")
    return value


def _account(index: int, raw: object) -> AccountSpec:
    entry = _Entry(f"accounts[{index}]", raw)
    number = entry.check("id", entry.need("id", max_len=16), _account_number)
    entry.name = f"accounts[{index}] ({number})"
    cash_raw = entry.raw.get("cash", "0")
    if isinstance(cash_raw, float):
        cash_raw = repr(cash_raw)
    cash = entry.check("cash", cash_raw, parse_usd)
    if cash < 0:
        raise entry.fail("cash", "must not be negative")
    return AccountSpec(number=number, entity_ref=entry.need("entity", max_len=64), cash=cash)


def _grant(entry: _Entry, index: int, raw: object) -> GrantSpec:
    where = f"grants[{index}]"
    if not isinstance(raw, Mapping):
        raise entry.fail(where, "must be a mapping {account, rights}")
    account = raw.get("account")
    if not isinstance(account, str):
        raise entry.fail(f"{where}.account", "is required")
    rights_raw = raw.get("rights", [])
    if not isinstance(rights_raw, list):
        raise entry.fail(f"{where}.rights", "must be a list")
    rights = frozenset(entry.check(f"{where}.rights", r, Right) for r in rights_raw)
    return GrantSpec(account_ref=account, rights=rights)


def _hex_secret(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be a hex string")
    try:
        secret = bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError("must be a hex string") from exc
    if len(secret) < 16:
        raise ValueError("must be at least 16 bytes (RFC 4226 §4: 128 bits)")
    return secret


def _base32_secret(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be a base32 string")
    text = value.replace(" ", "").upper()
    try:
        secret = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be a base32 string") from exc
    if len(secret) < 10:
        raise ValueError("must be at least 10 bytes (80 bits)")
    return secret


def _card_values(value: object) -> dict[int, str]:
    if not isinstance(value, Mapping) or len(value) < 2:
        raise ValueError("must map at least two positions to 3-character values")
    cells: dict[int, str] = {}
    for position, cell in value.items():
        number = int(str(position)) if str(position).isdigit() else 0
        if not 1 <= number <= 999:
            raise ValueError(f"position {position!r} must be a number from 1 to 999")
        if not isinstance(cell, str) or not CARD_VALUE_RE.fullmatch(cell.upper()):
            raise ValueError(f"value at {position} must be 3 characters A-Z or 0-9")
        cells[number] = cell.upper()
    return cells


def _pattern(regex: re.Pattern[str], message: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise ValueError(message)
        return value

    return check


def _device(entry: _Entry, index: int, raw: object) -> DeviceSpec:
    dev = _Entry(entry.name, raw, prefix=f"devices[{index}].")
    kind = dev.check("kind", dev.need("kind", max_len=32), DeviceKind)
    if kind in NOT_IMPORTABLE:
        raise dev.fail("kind", f"{kind} devices are enrolled by their owner, not imported")
    r = dev.raw
    spec: dict[str, object] = {
        "kind": kind,
        "serial": dev.text("serial", required=False, max_len=64),
        "label": dev.text("label", required=False),
    }
    if kind in HARDWARE_KINDS:
        spec["serial"] = dev.need("serial", max_len=64)
        spec["secret"] = dev.check("secret_hex", r.get("secret_hex"), _hex_secret)
    if kind is DeviceKind.DSC_PLUS:
        spec["pin"] = dev.check("pin", r.get("pin"), _pattern(PIN_RE, "must be 4 digits"))
    if kind in CARD_KINDS:
        spec["card_values"] = dev.check("values", r.get("values"), _card_values)
    if kind is DeviceKind.SMS:
        spec["phone"] = dev.check("phone", r.get("phone"), _phone)
    if kind is DeviceKind.TOTP_APP:
        spec["secret"] = dev.check("secret_base32", r.get("secret_base32"), _base32_secret)
    if kind is DeviceKind.TEMPORARY_CODE:
        spec["code"] = dev.check(
            "code", r.get("code"), _pattern(TEMP_CODE_RE, "must be 12 upper-case letters")
        )
    if r.get("expires_at") is not None:
        if kind is not DeviceKind.ONLINE_CODE_CARD:
            raise dev.fail("expires_at", "only an online_code_card expires")
        spec["expires_at"] = dev.check("expires_at", r["expires_at"], _moment)
    return DeviceSpec(**spec)  # type: ignore[arg-type]


def _moment(value: object) -> datetime:
    """An ISO 8601 date and time with its time zone (YAML may hand over a datetime)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not ISO 8601: the message below says so
            value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(
            "must be an ISO 8601 date and time with a time zone, such as 2027-01-31T17:00:00Z"
        )
    return value.astimezone(UTC)


def _phone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an E.164 number such as +15551230001 (quote it in YAML)")
    return check_phone(value)


def _password(entry: _Entry, common: Collection[str]) -> tuple[str | None, str | None]:
    password = entry.raw.get("password")
    password_hash = entry.raw.get("password_hash")
    if (password is None) == (password_hash is None):
        raise entry.fail("password", "give exactly one of password or password_hash")
    if password is not None:
        if not isinstance(password, str):
            raise entry.fail("password", "must be a string")
        entry.check("password", password, lambda p: check_password(p, common=common))
        return password, None
    if not (isinstance(password_hash, str) and ARGON2_RE.fullmatch(password_hash)):
        raise entry.fail("password_hash", "must be an Argon2id hash ($argon2id$v=19$...)")
    return None, password_hash


def _user(index: int, raw: object, common: Collection[str]) -> UserSpec:
    entry = _Entry(f"users[{index}]", raw)
    username = entry.check("username", entry.need("username", max_len=64), normalize_username)
    entry.name = f"users[{index}] ({username})"
    password, password_hash = _password(entry, common)
    phone: str | None = None
    if entry.raw.get("phone") is not None:
        phone = entry.check("phone", entry.raw["phone"], _phone)
    opted_out = entry.raw.get("opted_out", False)
    if not isinstance(opted_out, bool):
        raise entry.fail("opted_out", "must be true or false")
    return UserSpec(
        username=username,
        entity_ref=entry.need("entity", max_len=64),
        password=password,
        password_hash=password_hash,
        phone=phone,
        opted_out=opted_out,
        grants=tuple(
            _grant(entry, i, g) for i, g in enumerate(_as_list(entry.raw, "grants", entry.name))
        ),
        devices=tuple(
            _device(entry, i, d) for i, d in enumerate(_as_list(entry.raw, "devices", entry.name))
        ),
    )


@dataclass(frozen=True, kw_only=True)
class Existing:
    """What the database already holds among the keys the file names (found by the service)."""

    entity_ids: frozenset[str] = frozenset()
    account_numbers: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    serials: frozenset[str] = frozenset()


def _section(data: Mapping[str, object], key: str) -> list[object]:
    return _as_list(data, key, key)


def plan_import(
    data: object, *, common_passwords: Collection[str], existing: Existing
) -> ImportPlan:
    """Check the whole file (SPEC §10.3); raise ImportProblem at the first wrong field."""
    if not isinstance(data, Mapping):
        raise ImportProblem("(file)", "(top)", "must be a mapping with entities, accounts, users")
    for key in data:
        if key not in {"entities", "accounts", "users"}:
            raise ImportProblem("(file)", str(key), "is not a known section")
    entities = tuple(_entity(i, e) for i, e in enumerate(_section(data, "entities")))
    accounts = tuple(_account(i, a) for i, a in enumerate(_section(data, "accounts")))
    users = tuple(_user(i, u, common_passwords) for i, u in enumerate(_section(data, "users")))
    plan = ImportPlan(entities=entities, accounts=accounts, users=users)
    _check_unique(plan, existing)
    _check_references(plan, existing)
    return plan


def _unique(
    seen: set[str], taken: frozenset[str], key: str, entry: str, field_name: str, what: str
) -> None:
    if key in seen or key in taken:
        raise ImportProblem(entry, field_name, f"{what} {key!r} already exists")
    seen.add(key)


def _check_unique(plan: ImportPlan, existing: Existing) -> None:
    seen: set[str] = set()
    for i, e in enumerate(plan.entities):
        _unique(seen, existing.entity_ids, e.external_id, f"entities[{i}]", "id", "entity")
    seen = set()
    for i, a in enumerate(plan.accounts):
        _unique(seen, existing.account_numbers, a.number, f"accounts[{i}]", "id", "account")
    seen = set()
    serials: set[str] = set()
    for i, u in enumerate(plan.users):
        name = f"users[{i}] ({u.username})"
        _unique(seen, existing.usernames, u.username, name, "username", "username")
        for j, d in enumerate(u.devices):
            if d.serial:
                _unique(serials, existing.serials, d.serial, name, f"devices[{j}].serial", "serial")


def _check_references(plan: ImportPlan, existing: Existing) -> None:
    entity_ids = existing.entity_ids | {e.external_id for e in plan.entities}
    account_numbers = existing.account_numbers | {a.number for a in plan.accounts}
    for i, a in enumerate(plan.accounts):
        if a.entity_ref not in entity_ids:
            raise ImportProblem(
                f"accounts[{i}] ({a.number})", "entity", f"unknown entity {a.entity_ref!r}"
            )
    for i, u in enumerate(plan.users):
        name = f"users[{i}] ({u.username})"
        if u.entity_ref not in entity_ids:
            raise ImportProblem(name, "entity", f"unknown entity {u.entity_ref!r}")
        for j, g in enumerate(u.grants):
            if g.account_ref not in account_numbers:
                raise ImportProblem(
                    name, f"grants[{j}].account", f"unknown account {g.account_ref!r}"
                )


def referenced_keys(data: object) -> Existing:
    """Every key the file names, so the service can ask the database which already exist."""
    if not isinstance(data, Mapping):
        return Existing()

    def values(section: str, key: str) -> frozenset[str]:
        items = data.get(section)
        if not isinstance(items, list):
            return frozenset()
        return frozenset(str(i[key]) for i in items if isinstance(i, Mapping) and key in i)

    users = data.get("users") if isinstance(data.get("users"), list) else []
    serials = {
        str(d["serial"])
        for u in users or []
        if isinstance(u, Mapping)
        for d in (u.get("devices") or [])
        if isinstance(d, Mapping) and "serial" in d
    }
    entity_refs = (
        values("entities", "id") | values("accounts", "entity") | values("users", "entity")
    )
    grants = {
        str(g["account"])
        for u in users or []
        if isinstance(u, Mapping)
        for g in (u.get("grants") or [])
        if isinstance(g, Mapping) and "account" in g
    }
    return Existing(
        entity_ids=entity_refs,
        account_numbers=values("accounts", "id") | frozenset(grants),
        usernames=frozenset(str(n).strip().lower() for n in values("users", "username")),
        serials=frozenset(serials),
    )
