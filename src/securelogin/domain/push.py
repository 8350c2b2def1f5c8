"""What a push carries and what is signed (R-KEY-4, docs/mobile-key-protocol.md).

Pure: randomness and time arrive as parameters; the signatures themselves are made and
checked by an adapter (ECDSA P-256), this module only says *which bytes* are signed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from securelogin.domain.devices.base import Draw

#: signed app requests older or newer than this are refused (replay window)
MAX_SKEW_SECONDS = 120
#: R-KEY-4: a denial marked "not me" mutes pushes to the user this long
MUTE_MINUTES = 20
#: how many numbers the app offers (one of them is on the login screen)
CHOICES = 3


class Decision:
    APPROVE = "approve"
    DENY = "deny"


def canonical_json(obj: object) -> bytes:
    """The bytes both sides sign: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_digest(push: Mapping[str, object]) -> str:
    """hex(sha256(canonical PUSH as received, signature included))."""
    return hashlib.sha256(canonical_json(dict(push))).hexdigest()


def answer_payload(
    *, push_id: str, request: str, decision: str, number: str | None, not_me: bool
) -> bytes:
    """What the app signs when it answers a push."""
    return canonical_json(
        {
            "push_id": push_id,
            "request": request,
            "decision": decision,
            "number": number,
            "not_me": not_me,
        }
    )


def request_string(*, method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """The string an app signs for each call (X-SL-Signature)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()


def fresh(timestamp: str, *, now: datetime) -> bool:
    """A signed request's time is within ``MAX_SKEW_SECONDS`` of the server clock."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now.timestamp()) <= MAX_SKEW_SECONDS


def draw_number(draw: Draw) -> str:
    """The two-digit number shown on the login screen (10-99, never a leading zero)."""
    return str(10 + draw(90))


def choices(number: str, draw: Draw) -> list[str]:
    """Three different two-digit numbers, one of them ``number``, in random order."""
    picked = [number]
    while len(picked) < CHOICES:
        other = draw_number(draw)
        if other not in picked:
            picked.append(other)
    for i in range(len(picked) - 1, 0, -1):  # Fisher-Yates with the injected draw
        j = draw(i + 1)
        picked[i], picked[j] = picked[j], picked[i]
    return picked


def unsigned(push: Mapping[str, object]) -> dict[str, object]:
    """The PUSH without its signature: what the server signs."""
    return {k: v for k, v in push.items() if k != "signature"}
