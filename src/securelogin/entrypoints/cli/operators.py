"""Commands of operators and their roles; helpdesk commands (issue 6)."""

from __future__ import annotations
