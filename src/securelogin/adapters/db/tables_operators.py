"""Tables of operators and the console (issue 6): operators, their roles and sessions,
identity checks.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0005 (``migrations/versions/0005_operators.py``).
"""

from __future__ import annotations

from securelogin.adapters.db.tables import metadata  # noqa: F401  (tables register here)
