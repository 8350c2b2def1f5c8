"""The ceremony's state machine (issue 11): pure, total over its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from securelogin.domain.ceremony import (
    CeremonyClosed,
    CeremonyEvent,
    CeremonyState,
    observed,
    transition,
)

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "after"),
    [
        (CeremonyEvent.ACCEPTED, CeremonyState.AUTHENTICATED),
        (CeremonyEvent.EXHAUSTED, CeremonyState.DENIED),
        (CeremonyEvent.DENIED, CeremonyState.DENIED),
    ],
)
def test_R_LOGIN_6_every_event_ends_a_waiting_ceremony(
    event: CeremonyEvent, after: CeremonyState
) -> None:
    assert transition(CeremonyState.CHALLENGE, event) is after


@pytest.mark.parametrize("state", [s for s in CeremonyState if s is not CeremonyState.CHALLENGE])
@pytest.mark.parametrize("event", list(CeremonyEvent))
def test_R_LOGIN_6_a_finished_ceremony_takes_no_further_event(
    state: CeremonyState, event: CeremonyEvent
) -> None:
    with pytest.raises(CeremonyClosed):
        transition(state, event)


def test_R_LOGIN_5_a_waiting_ceremony_expires_at_its_expiry_and_a_finished_one_never() -> None:
    until = NOW + timedelta(minutes=3)
    assert observed(CeremonyState.CHALLENGE, expires_at=until, now=NOW) is CeremonyState.CHALLENGE
    assert observed(CeremonyState.CHALLENGE, expires_at=until, now=until) is CeremonyState.EXPIRED
    done = CeremonyState.AUTHENTICATED
    assert observed(done, expires_at=until, now=until + timedelta(hours=1)) is done
