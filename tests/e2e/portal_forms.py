"""Reading and posting the Client Portal's forms like a browser without JavaScript.

Helpers for the portal's HTTP tests: they fetch a page, read the CSRF token and the
prompt from the HTML, play the device with ``tests.devices.KINDS`` and post the form.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from securelogin.service.context import Services
from tests.devices import KINDS, PASSWORD
from tests.fakes import FakeClock

INVALID = "Invalid username or password"
FAILED = "Login failed"
EXPIRED = "Your login expired; please log in again"
LOGGED_OUT = "You have logged out"
ENDED = "Your session has ended; please log in again"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every portal form carries the CSRF token"
    return found.group(1)


def prompt_of(html: str) -> dict[str, Any]:
    """The prompt as SPEC §10.2 shapes it, read back from the second-factor page."""
    kind = re.search(r'data-prompt-type="(\w+)"', html)
    assert kind, "a second-factor page"
    prompt: dict[str, Any] = {"type": kind.group(1)}
    if prompt["type"] == "challenge":
        code = re.search(r'id="challenge-code"[^>]*>(\w+)<', html)
        assert code
        prompt["challenge"] = code.group(1)
    elif prompt["type"] == "card":
        prompt["indices"] = [int(i) for i in re.findall(r'class="card-index">(\d+)<', html)]
        assert len(prompt["indices"]) == 2
    elif prompt["type"] == "sms":
        sent = re.search(r"A code was sent to (\S+)<", html)
        assert sent
        prompt["sent_to"] = sent.group(1)
    return prompt


def messages_of(html: str) -> str:
    """The words of the page's message region (role="alert")."""
    found = re.search(r'<div class="messages"[^>]*>(.*?)</div>', html, re.S)
    assert found
    return re.sub(r"<[^>]+>", " ", found.group(1))


def path_of(answer: httpx.Response) -> str:
    return answer.url.path + (f"?{answer.url.query.decode()}" if answer.url.query else "")


def cookies_set(answer: httpx.Response) -> dict[str, str]:
    """``Set-Cookie`` headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in answer.headers.get_list("set-cookie")}


def submit_password(
    client: TestClient, username: str = "alice", password: str = PASSWORD, **kw: Any
) -> httpx.Response:
    form = client.get("/")
    data = {"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    return client.post("/login", data=data, **kw)


def answer_form(prompt: dict[str, Any], response: str) -> dict[str, str]:
    if prompt["type"] == "card":  # two boxes, one per index number
        first, second = response.split()
        return {"response": first, "response_2": second}
    return {"response": response}


def submit_answer(
    client: TestClient, page: httpx.Response, response: str, **kw: Any
) -> httpx.Response:
    data = answer_form(prompt_of(page.text), response) | {"csrf_token": csrf_of(page.text)}
    return client.post("/login/verify", data=data, **kw)


def play(kind: str, page: httpx.Response, clock: FakeClock, services: Services) -> str:
    return KINDS[kind].answer(prompt_of(page.text), clock.now(), services)


def log_in(
    client: TestClient, kind: str, clock: FakeClock, services: Services, username: str = "alice"
) -> httpx.Response:
    page = submit_password(client, username)
    assert path_of(page) == "/login/verify"
    return submit_answer(client, page, play(kind, page, clock, services))
