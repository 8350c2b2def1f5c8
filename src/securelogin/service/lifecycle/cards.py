"""Issuing security code cards (SPEC §2, §3; R-LOST-2) and printing them.

A card's values are drawn with the injected randomness (``secrets`` in production),
stored only as keyed hashes (``card:{device}:{position}``, like the importer) and leave
the service once, in the :class:`IssuedCard` returned for printing.  The audit event
names the card, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from securelogin.domain.audit import AuditEvent
from securelogin.domain.cards import CardError, PrintableCard, generate_card
from securelogin.domain.devices.catalogue import DeviceKind, DeviceState
from securelogin.domain.identity import PolicyViolation, normalize_username
from securelogin.domain.importfile import DeviceSpec
from securelogin.errors import Conflict, InvalidInput, NotFound
from securelogin.service.context import Services
from securelogin.service.importing import seal_device
from securelogin.service.ports import UnitOfWork

SERIAL_PREFIX = "SCC-"
ORIGIN = "issued"
#: a clash of 32 random bits is rare; a few fresh draws make a second one vanishingly so
SERIAL_ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class IssuedCard:
    """The new card; ``values`` and ``printable`` are for printing only, never stored."""

    device_id: str
    serial: str | None
    values: dict[int, str]
    printable: PrintableCard


@dataclass(frozen=True, kw_only=True)
class PrintedCard:
    pdf: bytes
    html: str


def issue_code_card(
    services: Services,
    *,
    username: str,
    actor: str,
    online: bool = False,
    positions: int | None = None,
) -> IssuedCard:
    """Create a security code card for ``username`` in one unit of work.

    Physical cards get a serial ``SCC-XXXXXXXX`` and are active at once.  Online cards
    (R-LOST-2) have no serial, wait for the user to answer two of their positions
    (``pending_activation``) and expire after ``policy.online_card_days``.
    """
    count = services.policy.card_positions if positions is None else positions
    try:
        values = generate_card(services.random.randbelow, positions=count)
    except CardError as exc:
        raise InvalidInput(str(exc), field="positions") from None
    try:
        name = normalize_username(username)
    except PolicyViolation:
        raise NotFound("unknown user") from None
    kind = DeviceKind.ONLINE_CODE_CARD if online else DeviceKind.CODE_CARD
    now = services.clock.now()
    with services.uow() as uow:
        user = uow.users.by_username(name)
        if user is None:
            raise NotFound("unknown user")
        serial = None if online else _fresh_serial(services, uow)
        device = seal_device(
            services,
            DeviceSpec(kind=kind, serial=serial, card_values=values),
            owner_id=user.id,
            origin=ORIGIN,
        )
        expires_at = None
        if online:
            expires_at = now + timedelta(days=services.policy.online_card_days)
            device = replace(device, state=DeviceState.PENDING_ACTIVATION, expires_at=expires_at)
        uow.devices.add(device, at=now)
        uow.audit.record(
            AuditEvent(
                action="device.issued",
                actor=actor,
                subject=user.username,
                data={
                    "device_id": device.public_id,
                    "kind": kind.value,
                    "serial": serial,
                    "positions": len(values),
                    "expires_at": expires_at.isoformat() if expires_at else None,
                },
            )
        )
        uow.commit()
    local = ZoneInfo(services.policy.timezone)
    printable = PrintableCard(
        serial=serial or device.public_id,
        holder=user.username,
        issued=now.astimezone(local).date(),
        values=values,
        online=online,
        expires=expires_at.astimezone(local).date() if expires_at else None,
    )
    return IssuedCard(device_id=device.public_id, serial=serial, values=values, printable=printable)


def _fresh_serial(services: Services, uow: UnitOfWork) -> str:
    for _ in range(SERIAL_ATTEMPTS):
        serial = SERIAL_PREFIX + services.random.token_bytes(4).hex().upper()
        if not uow.devices.existing_serials([serial]):
            return serial
    raise Conflict("could not find a free code card serial; try again")


def print_card(services: Services, card: PrintableCard) -> PrintedCard:
    """The card as a PDF page and as an HTML page, through the printer port."""
    return PrintedCard(pdf=services.printer.pdf(card), html=services.printer.html(card))
