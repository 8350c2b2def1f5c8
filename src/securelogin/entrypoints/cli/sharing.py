"""Commands of security settings: share requests, opt-out (issue 6)."""

from __future__ import annotations
