"""Fixtures of the end-to-end tests: ``browser``, Debian's chromium (see
:mod:`tests.e2e.browser_support` for the rest of what the browser tests share).

Chromium starts once per test process (each pytest-xdist worker has its own) on the first
test that asks for it; each test gets it through :class:`TestBrowser`, which closes every
context and page the test opened, so no cookie, storage or page outlives its test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser_support import TestBrowser, chromium


@pytest.fixture(scope="session")
def chromium_process() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def browser(chromium_process: Any) -> Iterator[TestBrowser]:
    tracked = TestBrowser(chromium_process)
    try:
        yield tracked
    finally:
        tracked.close()
