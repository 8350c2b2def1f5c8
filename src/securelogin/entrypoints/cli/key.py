"""Commands of the soft mobile key: securelogin key --home DIR ... (SPEC §10.1, issue 4).

The commands live in :mod:`securelogin_key.cli`; they need no database and no settings.
"""

from __future__ import annotations

from securelogin.entrypoints.cli.common import app
from securelogin_key.cli import key_app

app.add_typer(key_app, name="key")
