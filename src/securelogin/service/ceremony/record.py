"""The ceremony's record: opened waiting in ``challenge``, ended once by the pure
``domain.ceremony.transition`` (a typed answer, an approved or denied push, the last
answer wasted) — by the ceremony itself, never by a client writing a state by hand."""

from __future__ import annotations

from datetime import datetime

from securelogin.domain.ceremony import (
    CeremonyClosed,
    CeremonyOutcome,
    CeremonyState,
    event_of,
    observed,
    transition,
)
from securelogin.service.ceremony.ports import CeremonyRow, NewCeremony
from securelogin.service.ports import UnitOfWork


def open_ceremony(uow: UnitOfWork, new: NewCeremony) -> CeremonyRow:
    uow.ceremonies.add(new)
    return CeremonyRow(
        id=new.id,
        purpose=new.purpose,
        subject=new.subject,
        user_id=new.user_id,
        device_id=new.device_id,
        state=CeremonyState.CHALLENGE,
        platform=new.platform,
        client_ip=new.client_ip,
        sends=0,
        created_at=new.created_at,
        expires_at=new.expires_at,
        finished_at=None,
        outcome=None,
    )


def state_of(ceremony: CeremonyRow, now: datetime) -> CeremonyState:
    """Where it stands now (a ``challenge`` past its expiry has expired)."""
    return observed(ceremony.state, expires_at=ceremony.expires_at, now=now)


def is_open(ceremony: CeremonyRow, now: datetime) -> bool:
    return state_of(ceremony, now) is CeremonyState.CHALLENGE


def finish(
    uow: UnitOfWork, ceremony: CeremonyRow, outcome: CeremonyOutcome, now: datetime
) -> CeremonyState:
    """End the ceremony with ``outcome``: one conditional UPDATE, so of two racing
    decisions (two processes) exactly one wins; ``CeremonyClosed`` for the other, and
    for a ceremony that already ended or expired."""
    if not is_open(ceremony, now):
        raise CeremonyClosed(f"the ceremony is {state_of(ceremony, now)}")
    state = transition(ceremony.state, event_of(outcome))
    if not uow.ceremonies.finish(ceremony.id, state=state, outcome=outcome, now=now):
        raise CeremonyClosed("another decision ended the ceremony first")
    return state
