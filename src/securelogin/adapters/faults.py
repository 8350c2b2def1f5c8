"""Test hooks a server honours only when the test that started it asks for them.

``securelogin serve`` started with ``SECURELOGIN_TEST_FAULTS_DIR=<directory>`` (never set
in production; ``Settings.test_faults_dir``) looks into that directory while it works:

- a file named after a fault point (``service.ceremony.push.AFTER_APPROVAL``) makes the
  process kill itself there with SIGKILL — the ``kill -9`` of the crash test, at the one
  moment that matters (the approval written in the open transaction, its effect not);
- a file ``off-<guard>`` switches a guard off (``answer-lock``, ``account-lock``,
  ``replay-guard``) for the strict-xfail variants of the two-process race tests, which
  must fail without it; with the answer lock or the account lock off, the read it
  would have protected is followed by a pause (``UNGUARDED_PAUSE_SECONDS``), as on a
  slow process, so that the racing requests overlap however busy the machine is (a
  fast answer path on a loaded machine otherwise let them run one after the other, and
  the variant passed).

Without the setting none of this exists (``Services.fault`` is a no-op, the locks are on).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

#: the user's answer lock of R-LOGIN-3 (``SqlFailureCounters.lock``)
ANSWER_LOCK = "answer-lock"
#: the account's lock of R-LIMIT-5 (``SqlFunds``)
ACCOUNT_LOCK = "account-lock"
#: the time-step replay guard of R-LOGIN-6 (``SqlDeviceAccess.advance_counter``)
REPLAY_GUARD = "replay-guard"


#: how long a read that a switched-off guard no longer locks is held open (tests only)
UNGUARDED_PAUSE_SECONDS = 0.25


class FileFaults:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def off(self, lock: str) -> bool:
        """Whether the test switched ``lock`` off."""
        return (self.directory / f"off-{lock}").exists()

    def at(self, point: str) -> None:
        """Die here, as ``kill -9`` would, if the test asked for it."""
        if (self.directory / point).exists():
            os.kill(os.getpid(), signal.SIGKILL)
