"""Test doubles for the ports (STYLE.md rule 10): a clock that moves only when told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    def set(self, when: datetime) -> None:
        self.current = when


class RecordingSms:
    """An SMS gateway that records what it sends, and fails when told to.

    It stands for a production gateway (``keeps_text`` is False: the outbox redacts what
    it delivered).  ``fail(to, error, times)`` makes the next sends to ``to`` raise;
    ``on_send`` runs before each send (to interleave a second delivery pass).
    """

    keeps_text = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failures: dict[str, list[Exception]] = {}
        self.on_send: Callable[[], None] | None = None

    def fail(self, to: str, error: Exception, *, times: int = 1) -> None:
        self.failures.setdefault(to, []).extend([error] * times)

    def send(self, *, to: str, text: str) -> None:
        if self.on_send is not None:
            self.on_send()
        pending = self.failures.get(to)
        if pending:
            raise pending.pop(0)
        self.sent.append((to, text))


class RecordingMail:
    """A mail gateway that records ``(to, subject, text)``; like :class:`RecordingSms`."""

    keeps_text = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, *, to: str, subject: str, text: str) -> None:
        self.sent.append((to, subject, text))
