"""How a decided ceremony reaches the client that opened it: one handler per purpose,
registered in ``bootstrap.py`` (``Services.on_approval``), called inside the unit of work
that records the decision — so the approval and its effect (a session opened, a
withdrawal booked) commit together or not at all.  The ceremony never imports its
clients; a new purpose registers its handler and nothing here changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    """What a second-factor ceremony confirms (the push's ``purpose``)."""

    LOGIN = "login"
    WITHDRAWAL = "withdrawal"
    SHARE = "share"
    SETTINGS = "settings"


@dataclass(frozen=True, kw_only=True)
class Approval:
    """A push approved with the right number, under the user's answer lock."""

    purpose: Purpose
    #: what the ceremony confirms: the client's record (a login id, a withdrawal id, a
    #: share request's public id)
    subject: str
    ceremony_id: str
    push_id: str
    user_id: int
    username: str
    #: ``devices.id`` of the device that approved
    device_id: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Denial:
    """A push denied on the device: the ceremony ended as denied."""

    purpose: Purpose
    #: the client's record (as for :class:`Approval`)
    subject: str
    ceremony_id: str
    push_id: str
    user_id: int
    at: datetime
