"""The ceremony's own record (issue 11): one row per second-factor ceremony, whatever it
confirms, in the ``ceremonies`` table.  Its challenges (sealed as before) hang off it in
``challenges``; the client's record (a login, a withdrawal, a share request) names it by
id, and the ceremony names the client's record back as its ``subject``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from securelogin.domain.ceremony import CeremonyOutcome, CeremonyState
from securelogin.service.ceremony.outcomes import Purpose


@dataclass(frozen=True, kw_only=True)
class CeremonyRow:
    id: str
    purpose: Purpose
    #: the client's record: a login id, a withdrawal id, a share request's public id
    subject: str
    #: whose second factor answers (counters, lock-out): for a share, the device's owner
    user_id: int
    device_id: int | None
    state: CeremonyState
    #: where it was opened from (the push shows it, R-KEY-4)
    platform: str
    client_ip: str | None
    #: codes sent (SMS resend cap)
    sends: int
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None
    outcome: CeremonyOutcome | None


@dataclass(frozen=True, kw_only=True)
class NewCeremony:
    id: str
    purpose: Purpose
    subject: str
    user_id: int
    #: None when the user confirms with a factor they know (the password, R-WD-4)
    device_id: int | None
    platform: str
    client_ip: str | None
    created_at: datetime
    expires_at: datetime


class CeremonyRepository(Protocol):
    def add(self, row: NewCeremony) -> None:
        """Store a ceremony waiting in ``challenge``."""
        ...

    def get(self, ceremony_id: str) -> CeremonyRow | None: ...

    def finish(
        self,
        ceremony_id: str,
        *,
        state: CeremonyState,
        outcome: CeremonyOutcome,
        now: datetime,
    ) -> bool:
        """Move a ceremony out of ``challenge`` exactly once (one conditional UPDATE);
        False if it already left."""
        ...

    def set_device(self, ceremony_id: str, *, device_id: int) -> None: ...

    def count_send(self, ceremony_id: str, *, limit: int) -> bool:
        """Count one more code sent; False once ``limit`` is reached."""
        ...
