"""Tables of withdrawals and limits (issue 5): withdrawals, per-business-day totals,
idempotency keys, service API keys.

Registered on :data:`securelogin.adapters.db.tables.metadata`; the schema change is
migration 0004 (``migrations/versions/0004_funds.py``).
"""

from __future__ import annotations

from securelogin.adapters.db.tables import metadata  # noqa: F401  (tables register here)
