"""What the browser tests share: the wired app on a SQLite file, and a person's moves in
the portal (open a page, log in, read the prompt, type the answer, take a screenshot).

The ``browser`` fixture (Debian's chromium through Playwright) is in ``conftest.py``; the
server around the app is :func:`tests.e2e.live.serve`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.service.context import Services
from tests.databases import migrated_sqlite
from tests.devices import KINDS, PASSWORD
from tests.e2e.live import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SERVER_ARGS, SCREENSHOTS
from tests.fakes import FakeClock
from tests.integration.test_operators import OP_PASSWORD, seed_of

#: how a test answers the prompt it reads from the page
Answer = Callable[[dict[str, Any]], str]


def wire(tmp_path: Path, clock: FakeClock | None = None) -> Services:
    """The app's services on a fresh SQLite file; the real clock unless ``clock``."""
    settings = load_settings(
        database_url=migrated_sqlite(tmp_path / "portal.db"),
        master_key=base64.b64encode(b"b" * 32).decode(),
        argon2_memory_kib=19456,
    )
    if clock is None:
        return bootstrap(settings, migrate=True)
    return bootstrap(settings, migrate=True, clock=clock)


def running(
    tmp_path: Path, setup: Callable[[Services], object] = lambda _services: None
) -> Iterator[Services]:
    """For a fixture, ``yield from running(tmp_path, setup)``: :func:`wire` on the real
    clock (the browser's), ``setup`` (the test's users), closed after the test."""
    services = wire(tmp_path)
    try:
        setup(services)
        yield services
    finally:
        services.database.close()


@contextlib.contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator[str]:
    """Debian's chromium as a process of its own; yields its DevTools endpoint (``ws://…``).
    ``extra_args`` are added to its command line (e.g. a fake camera).

    A test fails (never skips) without chromium.  The process outlives the tests that use
    it: each test connects Playwright to it (:func:`connected`) instead of launching a
    browser.  A Playwright sync session may not outlive its test: while it is open, the
    thread counts as running an event loop and ``asyncio.run`` in a later test would fail.
    SECURELOGIN_TEST_HEADED=1 shows the window (needs a display, e.g. ``xvfb-run``).
    """
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium (make test installs it): apt-get install -y chromium")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    headless = [] if os.environ.get("SECURELOGIN_TEST_HEADED", "") == "1" else ["--headless"]
    with tempfile.TemporaryDirectory(prefix="sl-chromium-") as profile:
        proc = subprocess.Popen(
            [str(CHROMIUM), *headless, *CHROMIUM_ARGS, *CHROMIUM_SERVER_ARGS,
             *extra_args, "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        try:
            yield _devtools_endpoint(proc)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()


def _devtools_endpoint(proc: subprocess.Popen[str]) -> str:
    """Read chromium's stderr up to "DevTools listening on ws://…" (then keep draining
    it in a thread, so that chromium never blocks on a full pipe)."""
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            drain = proc.stderr.buffer.raw  # unbuffered: the pipe can be closed meanwhile
            threading.Thread(target=_drain, args=(drain,), daemon=True).start()
            return found.group(1)
    pytest.fail("chromium exited before it listened:\n" + "".join(seen[-20:]))


def _drain(pipe: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        while pipe.read(65536):
            pass


@contextlib.contextmanager
def connected(endpoint: str) -> Iterator[Any]:
    """Playwright connected to the chromium at ``endpoint``, for one test."""
    from playwright.sync_api import expect, sync_playwright

    # a page that is right passes at once; 15 s (not Playwright's 5) is how long a page may
    # take on a 2-core machine busy with the other workers before it counts as wrong
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        # SECURELOGIN_TEST_SLOWMO=ms slows each action down, for watching a headed run
        browser = p.chromium.connect_over_cdp(
            endpoint, slow_mo=float(os.environ.get("SECURELOGIN_TEST_SLOWMO", "0"))
        )
        try:
            yield browser
        finally:
            browser.close()  # closes this test's contexts and disconnects; chromium stays


class TestBrowser:
    """The process's chromium as one test sees it: ``new_context`` and ``new_page`` as
    Playwright's, and :meth:`close` closes what this test opened (not the browser)."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, launched: Any) -> None:
        self._launched = launched
        self._contexts: list[Any] = []

    def new_context(self, **options: Any) -> Any:
        context = self._launched.new_context(**options)
        self._contexts.append(context)
        return context

    def new_page(self, **options: Any) -> Any:
        """A page in a context of its own (Playwright's ``Browser.new_page``)."""
        return self.new_context(**options).new_page()

    def close(self) -> None:
        while self._contexts:
            self._contexts.pop().close()


def open_page(browser: Any, locale: str, problems: list[str]) -> Any:
    """A desktop-sized page in ``locale``; console errors (e.g. CSP) go to ``problems``."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def enter_password(page: Any, server: str, username: str, labels: tuple[str, str, str]) -> None:
    """The login form, found by its labels in the page's language."""
    page.goto(server + "/")
    page.get_by_label(labels[0]).fill(username)
    page.get_by_label(labels[1]).fill(PASSWORD)
    page.get_by_role("button", name=labels[2]).click()


def read_prompt(page: Any) -> dict[str, Any]:
    """The prompt as a person sees it on the second-factor page."""
    section = page.locator("section.verify")
    prompt: dict[str, Any] = {"type": section.get_attribute("data-prompt-type")}
    if prompt["type"] == "challenge":
        prompt["challenge"] = page.locator("#challenge-code").inner_text().strip()
    elif prompt["type"] == "card":
        prompt["indices"] = [int(i) for i in page.locator(".card-index").all_inner_texts()]
    return prompt


def type_answer(page: Any, prompt: dict[str, Any], answer: str, label: str | None) -> None:
    """The answer in its box (a code card's two values in theirs), found by ``label``."""
    from playwright.sync_api import expect

    if prompt["type"] == "card":
        first, second = answer.split()
        page.get_by_label(f"Code next to {prompt['indices'][0]}", exact=True).fill(first)
        page.get_by_label(f"Code next to {prompt['indices'][1]}", exact=True).fill(second)
        return
    box = page.locator("#response") if label is None else page.get_by_label(label, exact=True)
    expect(box).to_be_focused()
    box.fill(answer)


def device_answer(kind: str, services: Services) -> Answer:
    """The answer of the test device of ``kind`` (tests.devices), at the real time."""
    return lambda prompt: KINDS[kind].answer(prompt, datetime.now(UTC), services)


def log_in(
    page: Any, server: str, username: str, answer: Answer, *, landing: str | None = "/portal"
) -> None:
    """Password, then ``answer`` to the prompt the page shows; waits for ``landing``."""
    page.goto(server + "/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    prompt = read_prompt(page)
    type_answer(page, prompt, answer(prompt), None)
    page.locator("form.verify-form button[type=submit]").click()
    if landing is not None:
        page.wait_for_url(server + landing)


def console_log_in(
    page: Any, server: str, services: Services, username: str, secret_base32: str
) -> None:
    """An operator's console login: password, then the TOTP code of ``secret_base32`` at
    the services' clock; waits for the console's home page."""
    from playwright.sync_api import expect

    from securelogin.domain import otp

    page.goto(server + "/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(OP_PASSWORD)
    page.get_by_role("button", name="Log In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Authenticator code")
    step = otp.totp_counter(services.clock.now().timestamp(), 30)
    page.get_by_label("Code", exact=True).fill(otp.hotp(seed_of(secret_base32), step, digits=6))
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(server + "/console")
