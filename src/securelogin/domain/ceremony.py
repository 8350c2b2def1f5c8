"""The state machine of a second-factor ceremony (issue 11): where a login — or the
confirmation of a withdrawal or a share — stands, and the one pure function that moves
it.  Expiry is computed from the clock, never stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class CeremonyState(StrEnum):
    CHALLENGE = "challenge"
    AUTHENTICATED = "authenticated"
    DENIED = "denied"
    EXPIRED = "expired"


class CeremonyEvent(StrEnum):
    #: a right answer, or an approved push
    ACCEPTED = "accepted"
    #: the last of the challenge's answers was not accepted
    EXHAUSTED = "exhausted"
    #: the push was denied on the phone
    DENIED = "denied"


class CeremonyOutcome(StrEnum):
    """How an ended ceremony ended (stored with it; the state says where it stands)."""

    #: a typed answer was accepted
    ANSWERED = "answered"
    #: the push was approved with the right number
    APPROVED = "approved"
    #: the last of the challenge's answers was not accepted
    EXHAUSTED = "exhausted"
    #: the push was denied on the phone
    DENIED = "denied"


_EVENT_OF = {
    CeremonyOutcome.ANSWERED: CeremonyEvent.ACCEPTED,
    CeremonyOutcome.APPROVED: CeremonyEvent.ACCEPTED,
    CeremonyOutcome.EXHAUSTED: CeremonyEvent.EXHAUSTED,
    CeremonyOutcome.DENIED: CeremonyEvent.DENIED,
}


def event_of(outcome: CeremonyOutcome) -> CeremonyEvent:
    """The event an outcome is."""
    return _EVENT_OF[outcome]


class CeremonyClosed(ValueError):
    """The ceremony already ended: no event moves it any more."""


_AFTER = {
    CeremonyEvent.ACCEPTED: CeremonyState.AUTHENTICATED,
    CeremonyEvent.EXHAUSTED: CeremonyState.DENIED,
    CeremonyEvent.DENIED: CeremonyState.DENIED,
}


def transition(state: CeremonyState, event: CeremonyEvent) -> CeremonyState:
    """Only a ceremony waiting in ``challenge`` moves; every event ends it."""
    if state is not CeremonyState.CHALLENGE:
        raise CeremonyClosed(f"a ceremony in {state} takes no {event}")
    return _AFTER[event]


def observed(stored: CeremonyState, *, expires_at: datetime, now: datetime) -> CeremonyState:
    """What the ceremony is now: a ``challenge`` past its expiry has expired."""
    if stored is CeremonyState.CHALLENGE and now >= expires_at:
        return CeremonyState.EXPIRED
    return stored
