"""R-LOGIN-3 for every second-factor answer, whatever it confirms (a login, a withdrawal,
a share, a push approval).

The evaluations of one user's answers run one after the other under a row lock on the
user (:meth:`FailureCounters.lock`), held only for the check itself — never across a
password hash.  Under that lock the counters are read fresh, so that: N parallel wrong
answers evaluate exactly the remaining allowance; a right answer is never refused
because others are in flight; a right answer that was already accepted is answered as
already used and is no failure.  Only answers that were evaluated and wrong count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from securelogin.domain.access import lock_ends
from securelogin.errors import Locked, LoginFailed
from securelogin.service.context import Services
from securelogin.service.login_ports import AnswerLock, FailureCounter, Lockout
from securelogin.service.ports import UnitOfWork


class Verdict(StrEnum):
    """What became of one second-factor answer."""

    ACCEPTED = "accepted"
    #: evaluated and wrong: the only verdict that counts as a failure
    WRONG = "wrong"
    #: right, but accepted before (a repeated code, or the twin of an answer that just
    #: finished the challenge): refused, not counted (R-LOGIN-6)
    ALREADY_USED = "already_used"
    #: not evaluated: no open challenge, no answers left, the device is not usable
    CLOSED = "closed"
    #: taken (one of the challenge's answers) but not yet evaluated: the factor's check
    #: is slow (a password hash) and runs with no lock held (``ceremony.answers``)
    PENDING = "pending"


def lockout(services: Services, now: datetime) -> Lockout:
    hours = services.policy.lockout_window_hours
    return Lockout(
        threshold=services.policy.lockout_threshold, window_start=now - timedelta(hours=hours)
    )


class FailureCounts(Protocol):
    """The two counters of R-LOGIN-3 as a user's or an operator's row carries them."""

    @property
    def password_failures(self) -> int: ...
    @property
    def password_failed_at(self) -> datetime | None: ...
    @property
    def factor_failures(self) -> int: ...
    @property
    def factor_failed_at(self) -> datetime | None: ...


def locked_until(services: Services, user: FailureCounts, now: datetime) -> datetime | None:
    """When the lock-out of ``user`` (a client or an operator) ends; None if not locked."""
    window = timedelta(hours=services.policy.lockout_window_hours)
    ends = [
        lock_ends(n, at, threshold=services.policy.lockout_threshold, window=window)
        for n, at in (
            (user.password_failures, user.password_failed_at),
            (user.factor_failures, user.factor_failed_at),
        )
    ]
    active = [e for e in ends if e is not None and e > now]
    return max(active) if active else None


def serialise(services: Services, uow: UnitOfWork, user_id: int, now: datetime) -> AnswerLock:
    """Take the user's answer lock (until this unit of work ends) and refuse while the
    login is locked (``Locked``, nothing evaluated)."""
    user = uow.failures.lock(user_id)
    if user is None:
        raise LoginFailed
    return _unlocked(services, user, now)


def serialise_login(
    services: Services, uow: UnitOfWork, login_id: str, now: datetime
) -> AnswerLock | None:
    """:func:`serialise` for the user of login ``login_id`` (one statement); None when
    there is no such login (nothing locked)."""
    user = uow.failures.lock_by_login(login_id)
    return None if user is None else _unlocked(services, user, now)


def _unlocked(services: Services, user: AnswerLock, now: datetime) -> AnswerLock:
    retry_at = locked_until(services, user, now)
    if retry_at is not None:
        raise Locked(retry_at=retry_at)
    return user


def settle(
    services: Services, uow: UnitOfWork, user: AnswerLock, verdict: Verdict, now: datetime
) -> None:
    """Count a wrong answer; a right one ends the run of failures (still under the lock).
    Nothing else counts (``ALREADY_USED``, ``CLOSED``, ``PENDING``)."""
    if verdict is Verdict.WRONG:
        uow.failures.reserve(
            user.user_id, FailureCounter.FACTOR, now=now, lockout=lockout(services, now)
        )
    elif verdict is Verdict.ACCEPTED and user.factor_failures:
        uow.failures.clear(user.user_id, FailureCounter.FACTOR)
