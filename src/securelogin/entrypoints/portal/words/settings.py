"""Words of security settings: opt-out, opting back in, sharing (issue 6), in English and …

Simplified Chinese (same keys in both).
"""

from __future__ import annotations

EN: dict[str, str] = {}

ZH_CN: dict[str, str] = {}
