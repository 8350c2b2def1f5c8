"""Wake-up messages between server processes and jittered long-poll timeouts (issue 14)."""

from __future__ import annotations

from securelogin.adapters.wakeups.common import MAX_PAYLOAD, pack, unpack
from securelogin.entrypoints.api.waits import JITTER, JITTER_FROM, jittered


def test_R_KEY_4_long_poll_timeouts_are_jittered_and_never_longer_than_asked() -> None:
    assert jittered(60, lambda: 0.0) == 60
    assert jittered(60, lambda: 0.999999) >= 60 * (1 - JITTER)
    assert jittered(60, lambda: 0.5) == 60 * (1 - JITTER / 2)
    assert jittered(JITTER_FROM - 0.1, lambda: 0.9) == JITTER_FROM - 0.1  # short waits: exact
    assert {jittered(60) for _ in range(50)} != {60.0}  # the default draws


def test_R_KEY_4_wakeups_are_batched_and_a_process_ignores_its_own() -> None:
    items = [f"l:lg_{n:040d}" for n in range(1000)]
    payloads = pack("me", items)
    assert len(payloads) > 1 and all(len(p) <= MAX_PAYLOAD for p in payloads)
    heard: list[tuple[str, str]] = []
    for payload in payloads:
        unpack(payload, "other", lambda topic, key: heard.append((topic, key)))
        unpack(payload, "me", lambda topic, key: heard.append(("echo", key)))
    assert heard == [("l", item[2:]) for item in items]
    unpack("other l: nocolon w:wd_1", "me", lambda topic, key: heard.append((topic, key)))
    assert heard[-1] == ("w", "wd_1") and len(heard) == len(items) + 1
    assert pack("me", []) == []
