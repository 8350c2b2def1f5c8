"""Fixtures of the end-to-end tests: ``browser``, one chromium per test (see
:mod:`tests.e2e.browser_support` for the rest of what the browser tests share)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser_support import chromium


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched
