"""Tables of device lifecycle (issue 6): replacement requests, shipments, returns,
documents, closures.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0006 (``migrations/versions/0006_lifecycle.py``).
"""

from __future__ import annotations

from securelogin.adapters.db.tables import metadata  # noqa: F401  (tables register here)
