"""Tables of security settings (issue 6): opt-out waivers, share requests.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0007 (``migrations/versions/0007_sharing.py``).
"""

from __future__ import annotations

from securelogin.adapters.db.tables import metadata  # noqa: F401  (tables register here)
