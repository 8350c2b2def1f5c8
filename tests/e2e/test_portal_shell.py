"""The Client Portal shell (SPEC §8): pages, languages, CSRF, security headers, a browser.

The HTTP tests drive the real app through ``TestClient``; the browser test serves it
with uvicorn on 127.0.0.1 and drives Debian's chromium through Playwright, saving
screenshots to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.web import i18n
from securelogin.entrypoints.web.pages import same_site_path
from tests.databases import migrated_sqlite
from tests.e2e.live import SCREENSHOTS, serve

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
EXPIRED_EN = "Your session expired; please try again"
INVALID_EN = "Invalid username or password"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = load_settings(
        database_url=migrated_sqlite(tmp_path / "t.db"),
        master_key=base64.b64encode(b"k" * 32).decode(),
        argon2_memory_kib=19456,
    )
    return create_app(bootstrap(settings, migrate=True))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the login form carries a CSRF token"
    return found.group(1)


# -- the catalogue -----------------------------------------------------------------------


def test_both_catalogues_have_the_same_keys() -> None:
    assert set(i18n.EN) == set(i18n.ZH_CN)
    assert set(i18n.CATALOGUES) == set(i18n.LANGUAGE_NAMES) == {"en", "zh-CN"}


def test_R_LOGIN_10_failure_messages_name_no_factor() -> None:
    assert i18n.translate("en", "login.invalid_credentials") == "Invalid username or password"
    assert i18n.translate("en", "login.failed") == "Login failed"
    assert i18n.translate("zh-CN", "login.failed") == "登录失败"


@pytest.mark.parametrize(
    ("cookie", "query", "accept", "expected"),
    [
        (None, None, None, "en"),
        ("zh-CN", "en", "en", "zh-CN"),
        ("fr", "zh-CN", "en", "zh-CN"),
        (None, None, "zh-TW,zh;q=0.9", "zh-CN"),
        (None, None, "fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7", "zh-CN"),
        (None, None, "en-US,zh-CN;q=0.9", "en"),
        (None, None, "zh;q=0,de", "en"),
        (None, None, "de-DE", "en"),
        (None, None, "q=;;,,", "en"),
    ],
)
def test_language_comes_from_cookie_then_query_then_accept_language(
    cookie: str | None, query: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(cookie, query, accept) == expected


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/", "/"),
        ("/login?x=1", "/login?x=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("https://evil.example/", "/"),
        ("evil", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_language_switch_returns_only_to_paths_on_this_site(
    candidate: str | None, expected: str
) -> None:
    assert same_site_path(candidate) == expected


# -- pages over HTTP ---------------------------------------------------------------------


def test_landing_page_shows_the_login_form_in_english(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert '<meta charset="utf-8">' in html
    assert '<form class="login-form" method="post" action="/login">' in html
    assert '<label for="username">Username</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="username"' in html and 'maxlength="64"' in html
    assert 'autocomplete="current-password"' in html and 'maxlength="128"' in html
    assert '<input type="hidden" name="platform" value="portal">' in html
    assert 'role="alert"' in html
    assert "Secure Login System" in html and ">Log In</button>" in html
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in html
    assert '<main id="main"' in html
    assert 'hreflang="en" lang="en" aria-current="true"' in html
    assert page.headers["content-language"] == "en"


def test_language_switch_shows_chinese_afterwards(client: TestClient) -> None:
    switched = client.get("/lang/zh-CN", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/"
    assert "lang=zh-CN" in switched.headers["set-cookie"]
    page = client.get("/")
    assert '<html lang="zh-CN">' in page.text
    assert "<title>客户端 · 安全登录系统</title>" in page.text
    assert '<label for="username">用户名</label>' in page.text
    assert 'hreflang="zh-CN" lang="zh-CN" aria-current="true"' in page.text
    assert page.headers["content-language"] == "zh-CN"


def test_unknown_language_code_falls_back_to_english(client: TestClient) -> None:
    client.get("/lang/xx")
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "zh"}).text


def test_accept_language_zh_gives_chinese(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in page.text
    assert page.headers["content-language"] == "zh-CN"


def test_lang_query_is_honoured_without_a_cookie(client: TestClient) -> None:
    assert '<html lang="zh-CN">' in client.get("/?lang=zh-CN").text


def test_open_redirect_through_the_language_switch_ends_at_home(client: TestClient) -> None:
    answer = client.get("/lang/en?next=//evil.example", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    followed = client.get("/lang/en?next=//evil.example")
    assert followed.url.host == "testserver" and followed.url.path == "/"


def test_login_without_csrf_token_is_refused_with_a_page(client: TestClient) -> None:
    client.get("/")
    answer = client.post("/login", data={"username": "alice", "password": "x"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert EXPIRED_EN in answer.text
    assert 'href="/"' in answer.text


def test_login_with_a_token_from_another_form_is_refused(client: TestClient) -> None:
    client.get("/")
    forged = base64.urlsafe_b64encode(b"x" * 32).rstrip(b"=").decode()
    answer = client.post("/login", data={"username": "a", "password": "b", "csrf_token": forged})
    assert answer.status_code == 403


def test_login_with_csrf_token_and_unknown_user_is_invalid_credentials(client: TestClient) -> None:
    form = client.get("/")
    cookie = form.headers["set-cookie"]
    assert cookie.startswith("sl_csrf=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    answer = client.post(
        "/login",
        data={
            "username": "<b>alice</b>",
            "password": "pw",
            "platform": "portal",
            "csrf_token": csrf_field(form.text),
        },
    )
    assert answer.status_code == 200
    assert INVALID_EN in answer.text
    assert 'value="&lt;b&gt;alice&lt;/b&gt;"' in answer.text, "autoescaped"
    assert "pw" not in re.findall(r'value="([^"]*)"', answer.text)


def test_login_notice_is_translated(client: TestClient) -> None:
    form = client.get("/?lang=zh-CN")
    answer = client.post(
        "/login?lang=zh-CN", data={"username": "a", "csrf_token": csrf_field(form.text)}
    )
    assert "用户名或密码无效" in answer.text


def test_csrf_cookie_is_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure_client:
        cookie = secure_client.get("/").headers["set-cookie"]
    assert "Secure" in cookie


@pytest.mark.parametrize("path", ["/", "/lang/zh-CN"])
def test_every_portal_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path, follow_redirects=False).headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-language"] in {"en", "zh-CN"}


def test_refused_login_carries_the_security_headers(client: TestClient) -> None:
    headers = client.post("/login", data={}).headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"


def test_stylesheet_and_icon_are_served_locally(client: TestClient) -> None:
    css = client.get("/static/portal.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert '"WenQuanYi Micro Hei"' in css.text and "@import" not in css.text
    assert "http" not in css.text, "no external fonts or assets"
    assert client.get("/static/favicon.svg").status_code == 200


# -- a real browser ----------------------------------------------------------------------


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a background thread."""
    with serve(app) as url:
        yield url


@pytest.mark.browser
def test_browser_shows_the_labelled_login_form_in_both_languages(
    live_server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-US")
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server + "/")
    expect(page).to_have_title("Client Portal · Secure Login System")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Log In")).to_be_visible()
    # The stylesheet applied under the CSP (header background is the brand colour).
    header = page.locator("header.site-header")
    expect(header).to_have_css("background-color", "rgb(11, 58, 102)")
    page.screenshot(path=str(SCREENSHOTS / "portal-en.png"), full_page=True)

    page.get_by_role("link", name="简体中文").click()
    expect(page).to_have_title("客户端 · 安全登录系统")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_label("用户名")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "portal-zh-CN.png"), full_page=True)

    # The double-submit cookie travels with a real form post.
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill("secret-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码无效")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "portal-zh-CN-mobile.png"), full_page=True)
    assert problems == [], "no console errors (e.g. CSP violations)"
