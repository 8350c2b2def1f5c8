"""Fixtures of the end-to-end tests: ``browser``, Debian's chromium (see
:mod:`tests.e2e.browser_support` for the rest of what the browser tests share).

Chromium starts once per test process (each pytest-xdist worker has its own) on the first
test that asks for it; each test connects Playwright to it and gets it through
:class:`TestBrowser`, which closes every context and page the test opened, so no cookie,
storage or page outlives its test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser_support import TestBrowser, chromium, connected


@pytest.fixture(scope="session")
def chromium_endpoint() -> Iterator[str]:
    with chromium() as endpoint:
        yield endpoint


@pytest.fixture
def browser(chromium_endpoint: str) -> Iterator[TestBrowser]:
    with connected(chromium_endpoint) as launched:
        tracked = TestBrowser(launched)
        try:
            yield tracked
        finally:
            tracked.close()
