"""Commands of device lifecycle: shipping, returns, closure, background jobs (issue 6)."""

from __future__ import annotations
