"""Commands of funds: service API keys, ledger administration (issue 5)."""

from __future__ import annotations
