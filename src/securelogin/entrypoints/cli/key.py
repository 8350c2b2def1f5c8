"""Commands of the soft mobile key: securelogin key --home DIR ... (SPEC §10.1, issue 4)."""

from __future__ import annotations
