"""``securelogin admin import`` (SPEC §10.3): all or nothing, secrets sealed on the way in."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import yaml

from securelogin.domain.audit import AuditEvent
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.importfile import (
    DeviceSpec,
    Existing,
    ImportPlan,
    ImportProblem,
    UserSpec,
    plan_import,
    referenced_keys,
)
from securelogin.domain.money import to_cents
from securelogin.errors import ImportRejected, InvalidInput
from securelogin.service.context import Services
from securelogin.service.ports import NewDevice, UnitOfWork


@dataclass(frozen=True, kw_only=True)
class ImportSummary:
    entities: int
    accounts: int
    users: int
    devices: int


def decode(text: str, *, filename: str) -> object:
    """YAML or JSON (JSON is YAML, but a .json file gets JSON's stricter errors)."""
    try:
        if filename.endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise InvalidInput(f"{filename}: not valid YAML/JSON: {first}") from None


def import_data(
    services: Services, data: object, *, actor: str = "cli:import", origin: str = "import"
) -> ImportSummary:
    """Check the whole file against the rules and the database, then write it in one commit."""
    with services.uow() as uow:
        wanted = referenced_keys(data)
        existing = Existing(
            entity_ids=frozenset(uow.entities.existing_ids(sorted(wanted.entity_ids))),
            account_numbers=frozenset(
                uow.accounts.existing_numbers(sorted(wanted.account_numbers))
            ),
            usernames=frozenset(uow.users.existing_usernames(sorted(wanted.usernames))),
            serials=frozenset(uow.devices.existing_serials(sorted(wanted.serials))),
        )
        try:
            plan = plan_import(
                data, common_passwords=services.policy.common_passwords, existing=existing
            )
        except ImportProblem as exc:
            raise ImportRejected(entry=exc.entry, field=exc.field, problem=exc.problem) from None
        summary = _apply(services, uow, plan, actor=actor, origin=origin)
        uow.commit()
    return summary


def _apply(
    services: Services, uow: UnitOfWork, plan: ImportPlan, *, actor: str, origin: str
) -> ImportSummary:
    now = services.clock.now()
    entity_ids: dict[str, int] = {}
    for e in plan.entities:
        sealed = services.box.seal(
            json.dumps(_ident_json(e.identification)).encode(), context=f"entity:{e.external_id}"
        )
        fp = services.box.fingerprint(e.identification.canonical(), purpose="identification")
        entity_ids[e.external_id] = uow.entities.add(
            external_id=e.external_id,
            kind=e.kind,
            name=e.name,
            identification=sealed,
            fingerprint=fp,
            at=now,
        )
        uow.audit.record(AuditEvent(action="entity.created", actor=actor, subject=e.external_id))
    account_ids: dict[str, int] = {}
    for a in plan.accounts:
        entity_id = entity_ids.get(a.entity_ref) or uow.entities.id_of(a.entity_ref)
        assert entity_id is not None  # noqa: S101 - plan_import checked the reference
        account_ids[a.number] = uow.accounts.add(
            number=a.number, entity_id=entity_id, balance_cents=to_cents(a.cash), at=now
        )
        uow.audit.record(
            AuditEvent(
                action="account.opened",
                actor=actor,
                subject=a.number,
                data={"cash_cents": to_cents(a.cash)},
            )
        )
    devices = 0
    for u in plan.users:
        devices += _add_user(
            services, uow, u, entity_ids, account_ids, now=now, actor=actor, origin=origin
        )
    return ImportSummary(
        entities=len(plan.entities),
        accounts=len(plan.accounts),
        users=len(plan.users),
        devices=devices,
    )


def _ident_json(ident: object) -> dict[str, str | None]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in vars(ident).items()}


def _add_user(
    services: Services,
    uow: UnitOfWork,
    u: UserSpec,
    entity_ids: dict[str, int],
    account_ids: dict[str, int],
    *,
    now: datetime,
    actor: str,
    origin: str,
) -> int:
    entity_id = entity_ids.get(u.entity_ref) or uow.entities.id_of(u.entity_ref)
    assert entity_id is not None  # noqa: S101 - plan_import checked the reference
    password_hash = u.password_hash or services.passwords.hash(u.password or "")
    user_id = uow.users.add(
        username=u.username,
        entity_id=entity_id,
        password_hash=password_hash,
        phone=u.phone,
        opted_out=u.opted_out,
        at=now,
    )
    for g in u.grants:
        account_id = account_ids.get(g.account_ref)
        if account_id is None:
            row = uow.accounts.by_number(g.account_ref)
            assert row is not None  # noqa: S101 - plan_import checked the reference
            account_id = row.id
        uow.users.grant(user_id=user_id, account_id=account_id, rights=g.rights)
    uow.audit.record(
        AuditEvent(
            action="user.created",
            actor=actor,
            subject=u.username,
            data={"grants": len(u.grants), "opted_out": u.opted_out},
        )
    )
    for index, spec in enumerate(u.devices):
        device = seal_device(services, spec, owner_id=user_id, origin=origin)
        if spec.kind is DeviceKind.ONLINE_CODE_CARD:
            device = replace(device, expires_at=_online_card_end(services, u, index, spec, now))
        uow.devices.add(device, at=now)
        uow.audit.record(
            AuditEvent(
                action="device.enrolled",
                actor=actor,
                subject=u.username,
                data={"device_id": device.public_id, "kind": spec.kind, "serial": spec.serial},
            )
        )
    return len(u.devices)


def _online_card_end(
    services: Services, u: UserSpec, index: int, spec: DeviceSpec, now: datetime
) -> datetime:
    """R-LOST-2: an imported online card is active from the import and ends 21 days later,
    or when the file says; an end already past refuses the whole file."""
    if spec.expires_at is None:
        return now + timedelta(days=services.policy.online_card_days)
    if spec.expires_at <= now:
        raise ImportRejected(
            entry=f"users ({u.username})",
            field=f"devices[{index}].expires_at",
            problem=f"{spec.expires_at.isoformat()} has already passed",
        )
    return spec.expires_at


def new_device_id(services: Services) -> str:
    return "dev_" + services.random.token_bytes(8).hex()


def seal_device(
    services: Services, spec: DeviceSpec, *, owner_id: int | None, origin: str
) -> NewDevice:
    """Turn a checked device entry into a storage row: seeds and PINs sealed, cards hashed."""
    public_id = new_device_id(services)
    box = services.box
    secret = box.seal(spec.secret, context=f"device:{public_id}") if spec.secret else None
    if spec.code:
        secret = box.seal(spec.code.encode(), context=f"device:{public_id}")
    pin_secret = None
    if spec.pin is not None:
        pin_secret = box.seal(spec.pin.encode(), context=f"device-pin:{public_id}")
    cards = {
        p: box.fingerprint(v.encode(), purpose=f"card:{public_id}:{p}")
        for p, v in spec.card_values.items()
    }
    params: dict[str, str | int | bool] = {}
    if spec.phone:
        params["phone"] = spec.phone
    if cards:
        params["positions"] = len(cards)
    return NewDevice(
        public_id=public_id,
        kind=spec.kind,
        owner_id=owner_id,
        state=DeviceState.ACTIVE,
        serial=spec.serial,
        label=spec.label,
        secret=secret,
        pin_secret=pin_secret,
        params=params,
        origin=origin,
        card_hashes=cards or None,
    )
