"""Tables of the mobile key (issue 4): app installations, push requests, activations.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0003 (``migrations/versions/0003_mobile_key.py``).
"""

from __future__ import annotations

from securelogin.adapters.db.tables import metadata  # noqa: F401  (tables register here)
