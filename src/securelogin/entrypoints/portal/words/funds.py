"""Words of withdrawals and limits (issue 5), in English and Simplified Chinese (same keys …

in both).
"""

from __future__ import annotations

EN: dict[str, str] = {}

ZH_CN: dict[str, str] = {}
