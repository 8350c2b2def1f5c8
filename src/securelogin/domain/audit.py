"""The audit chain of R-OPS-6: each event's hash covers the previous hash and its own content.

Pure: the storage adapter supplies the rows; a change to any field of any row, a deleted
row or a reordered row breaks the chain at (or right after) that row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

GENESIS_HASH = "0" * 64

AuditValue = str | int | bool | None


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """What happened; written in the same transaction as the change it describes."""

    action: str
    actor: str
    subject: str
    data: Mapping[str, AuditValue] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ChainedEvent:
    id: int
    at: datetime
    event: AuditEvent
    prev_hash: str
    hash: str


def canonical(event_id: int, at: datetime, event: AuditEvent) -> bytes:
    """The exact bytes a link hash covers; keys sorted, no whitespace, UTC ISO time."""
    body = {
        "id": event_id,
        "at": at.isoformat(timespec="microseconds"),
        "action": event.action,
        "actor": event.actor,
        "subject": event.subject,
        "data": dict(event.data),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(prev_hash: str, event_id: int, at: datetime, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event_id, at, event)).hexdigest()


@dataclass(frozen=True, kw_only=True)
class ChainCheck:
    events: int
    last_id: int
    last_hash: str
    first_bad_id: int | None


def check_chain(rows: Iterable[ChainedEvent], *, head_id: int, head_hash: str) -> ChainCheck:
    """Verify every link, then that the chain ends where the head says (no cut-off tail)."""
    expected_prev, last_id, count = GENESIS_HASH, 0, 0
    for row in rows:
        count += 1
        if (
            row.id != last_id + 1
            or row.prev_hash != expected_prev
            or row.hash != link_hash(row.prev_hash, row.id, row.at, row.event)
        ):
            return ChainCheck(
                events=count, last_id=last_id, last_hash=expected_prev, first_bad_id=row.id
            )
        expected_prev, last_id = row.hash, row.id
    bad = None if (last_id, expected_prev) == (head_id, head_hash) else last_id + 1
    return ChainCheck(events=count, last_id=last_id, last_hash=expected_prev, first_bad_id=bad)
