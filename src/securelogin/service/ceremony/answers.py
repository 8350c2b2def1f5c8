"""One typed answer to a ceremony, evaluated in turn (R-LOGIN-3): under the user's
answer lock, checked through the factor's plug-in, counted, and handed to the client in
the unit of work where it applies the effect and commits.

A factor whose check is deliberately slow (the password of a rank-0 withdrawal,
``ceremony.knowledge``) never runs under that lock: a first short turn takes one of the
challenge's answers (refused while the login is locked, so a locked user costs no hash),
the check runs with no lock or transaction held, and a second turn applies its verdict
with the counters read fresh — so parallel wrong answers still count exactly up to the
allowance and a right one is never refused because others are in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from securelogin.service.ceremony.counting import Verdict, serialise, settle
from securelogin.service.ceremony.factors import AnswerOutcome, check_answer
from securelogin.service.ceremony.knowledge import Checked
from securelogin.service.ceremony.ports import CeremonyRow
from securelogin.service.context import Services
from securelogin.service.login_ports import AnswerLock
from securelogin.service.ports import UnitOfWork

#: what the client opens under the lock: the ceremony and its own record of it
Subject = TypeVar("Subject")


@dataclass(frozen=True, kw_only=True)
class Turn(Generic[Subject]):
    """An answer evaluated and counted; the client applies the effect and commits."""

    uow: UnitOfWork
    held: AnswerLock
    subject: Subject
    outcome: AnswerOutcome


@contextmanager
def evaluated(
    services: Services,
    *,
    user_id: int,
    response: str,
    now: datetime,
    max_answers: int,
    open_ceremony: Callable[[UnitOfWork], tuple[CeremonyRow, Subject]],
) -> Iterator[Turn[Subject]]:
    """Evaluate ``response`` in turn and yield the :class:`Turn` inside its unit of work
    (rolled back unless the caller commits).  ``open_ceremony`` reads the ceremony under
    the lock (fresh: a twin answer may have finished it) and raises if it is closed."""
    checked: Checked | None = None
    for _ in range(2):
        with services.uow() as uow:
            held = serialise(services, uow, user_id, now)  # then read: fresh under it
            ceremony, subject = open_ceremony(uow)
            outcome = check_answer(
                services,
                uow,
                ceremony=ceremony,
                response=response,
                now=now,
                max_answers=max_answers,
                checked=checked,
            )
            if outcome.slow is None or checked is not None:
                if outcome.slow is not None:  # a new challenge came between the turns
                    outcome = AnswerOutcome(verdict=Verdict.CLOSED, reason="challenge_changed")
                settle(services, uow, held, outcome.verdict, now)
                yield Turn(uow=uow, held=held, subject=subject, outcome=outcome)
                return
            uow.commit()  # the answer is taken (one of the challenge's 3), not yet judged
        checked = outcome.slow.run(response)  # the slow hash: no lock, no transaction
