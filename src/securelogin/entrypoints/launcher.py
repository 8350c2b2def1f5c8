"""The ``securelogin`` console script (SPEC §10.1): picks what to load from the command.

``securelogin key …`` is the soft mobile key, a client on the user's own machine: it
needs no database, no settings and none of the server's commands, so it loads only
:mod:`securelogin_key` (≈ 0.25 s of CPU) instead of every server command and adapter
(≈ 1.3 s).  Everything else goes to :func:`securelogin.entrypoints.cli.main.run`.  The
imports below are inside the function on purpose: which one runs depends on argv.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:2] == ["key"]:
        from securelogin_key.cli import key_app

        try:
            key_app(args=sys.argv[2:], prog_name="securelogin key")
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception as exc:  # the same last line of defence as the server's commands
            print(f"securelogin: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            sys.exit(70)
        return
    from securelogin.entrypoints.cli.main import run as run_commands

    run_commands()
