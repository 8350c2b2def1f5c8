"""Logging in to the Client Portal through its HTML forms (SPEC §3, §8, R-LOGIN-1..10).

Each test drives the real app with ``TestClient`` like a browser without JavaScript: it
fetches a page, reads the CSRF token and the prompt from the HTML, plays the device with
``tests.devices.KINDS`` and posts the form. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.web import i18n
from securelogin.service.context import Services
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.portal_forms import (
    EXPIRED,
    FAILED,
    INVALID,
    LOGGED_OUT,
    cookies_set,
    csrf_of,
    messages_of,
    path_of,
    play,
    prompt_of,
    submit_answer,
    submit_password,
)
from tests.fakes import FakeClock


@pytest.fixture
def alice(services: Services) -> None:
    """alice holds a DSC+ and an SMS device; dora only a DSC."""
    Brokerage().user("alice", KINDS["dsc_plus"].device, KINDS["sms"].device).user(
        "dora", KINDS["dsc"].device | {"serial": "T-DSC-2"}, phone=None
    ).load(services)


@pytest.fixture
def https(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), base_url="https://testserver") as client:
        yield client


# -- every device kind ------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_device_kind_logs_in_through_the_portal_forms(
    api: TestClient, services: Services, clock: FakeClock, kind: str
) -> None:
    Brokerage().user("alice", KINDS[kind].device).load(services)
    page = submit_password(api)
    assert path_of(page) == "/login/verify"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    prompt = prompt_of(page.text)
    assert prompt["type"] == KINDS[kind].prompt_type
    assert f'data-device-kind="{kind}"' in page.text
    assert "<h1" in page.text and "Two-Factor Authentication" in page.text
    assert 'autocomplete="one-time-code"' in page.text and " autofocus" in page.text
    home = submit_answer(api, page, play(kind, page, clock, services))
    assert path_of(home) == "/portal"
    assert "Welcome, alice" in home.text
    assert f"Tier {KINDS[kind].rank}" in home.text
    assert i18n.translate("en", f"kind.{kind}") in home.text
    assert ">Log Out</button>" in home.text


def test_the_challenge_page_follows_the_dsc_plus_article(
    api: TestClient, alice: None, clock: FakeClock
) -> None:
    html = submit_password(api).text
    assert "Challenge code" in html and '<label for="response">Response</label>' in html
    assert 'inputmode="numeric"' in html
    assert "PIN&gt;" in html and "CHALLNG&gt;" in html, "PIN first, then the challenge"
    assert re.search(r'id="challenge-code"[^>]*>\d{6}<', html)


def test_the_card_page_names_both_index_numbers(api: TestClient, services: Services) -> None:
    Brokerage().user("alice", KINDS["code_card"].device).load(services)
    html = submit_password(api).text
    first, second = prompt_of(html)["indices"]
    text = re.sub(r"<[^>]+>", "", html)
    assert f"Enter the codes next to {first} and {second} on your Security Code Card" in text
    assert f'<label for="response">Code next to {first}</label>' in html
    assert f'<label for="response_2">Code next to {second}</label>' in html


def test_a_card_answer_may_come_in_one_box_with_spaces_and_any_case(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["online_code_card"].device).load(services)
    page = submit_password(api)
    answer = play("online_code_card", page, clock, services)
    home = api.post(
        "/login/verify", data={"response": f" {answer.lower()} ", "csrf_token": csrf_of(page.text)}
    )
    assert path_of(home) == "/portal"


# -- failures (R-LOGIN-10) --------------------------------------------------------------


def test_R_LOGIN_10_a_wrong_or_unknown_password_reads_invalid_username_or_password(
    api: TestClient, alice: None
) -> None:
    for username, password in (("alice", "Wrong-Password-1"), ("nobody", PASSWORD)):
        page = submit_password(api, username, password)
        assert path_of(page) == "/login"
        assert INVALID in page.text and FAILED not in page.text
        assert f'value="{username}"' in page.text, "the username stays, the password not"
        assert password not in page.text
        assert "sl_login" not in api.cookies


def test_R_LOGIN_10_a_wrong_code_reads_login_failed_and_the_challenge_stays(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    page = submit_password(api)
    challenge = prompt_of(page.text)["challenge"]
    failed = submit_answer(api, page, "00000000")
    assert path_of(failed) == "/login/verify?notice=failed"
    assert FAILED in failed.text and INVALID not in failed.text
    assert prompt_of(failed.text)["challenge"] == challenge, "the same challenge, answered again"
    home = submit_answer(api, failed, play("dsc_plus", failed, clock, services))
    assert path_of(home) == "/portal"


def test_R_LOGIN_6_three_wrong_answers_end_the_login_with_login_failed(
    api: TestClient, alice: None
) -> None:
    page = submit_password(api)
    for _ in range(3):
        page = submit_answer(api, page, "00000000")
    assert path_of(page) == "/?notice=failed"
    assert FAILED in page.text and 'action="/login"' in page.text
    assert api.get("/login/verify").url.path == "/", "the login is over"


def test_R_LOGIN_3_a_locked_login_reads_login_failed_with_the_help_text(
    api: TestClient, alice: None
) -> None:
    for _ in range(10):
        assert INVALID in submit_password(api, password="Wrong-Password-1").text
    page = submit_password(api)
    assert path_of(page) == "/login"
    assert FAILED in page.text and INVALID not in page.text
    assert "please contact Client Services" in messages_of(page.text)
    assert "lock" not in messages_of(page.text).lower(), "nothing says which rule refused it"


# -- cookies and CSRF -------------------------------------------------------------------


def test_the_login_and_session_cookies_are_httponly_and_samesite_strict(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    started = submit_password(api, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/login/verify"
    login_cookie = cookies_set(started)["sl_login"]
    assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
    assert "Path=/login" in login_cookie and "Secure" not in login_cookie
    assert "lg_" not in started.headers["location"], "the login id never travels in a URL"
    page = api.get("/login/verify")
    done = submit_answer(api, page, play("dsc_plus", page, clock, services), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/portal"
    cookies = cookies_set(done)
    session = cookies["sl_session"]
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert 'sl_login=""' in cookies["sl_login"] and "Max-Age=0" in cookies["sl_login"]
    assert "Max-Age=0" in cookies["sl_csrf"], "a new CSRF token once logged in"


def test_the_cookies_are_secure_over_https(
    https: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    started = submit_password(https, follow_redirects=False)
    assert "Secure" in cookies_set(started)["sl_login"]
    page = https.get("/login/verify")
    done = submit_answer(
        https, page, play("dsc_plus", page, clock, services), follow_redirects=False
    )
    assert "Secure" in cookies_set(done)["sl_session"]


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    refused = api.post("/login", data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403 and "sl_login" not in api.cookies
    page = submit_password(api)
    right = play("dsc_plus", page, clock, services)
    for path, data in (
        ("/login/verify", {"response": right}),
        ("/login/resend", {}),
        ("/login/device", {"device_id": "dev_x"}),
        ("/logout", {}),
    ):
        answer = api.post(path, data=data | {"csrf_token": "x" * 43}, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "Your session expired; please try again" in answer.text
    assert "sl_session" not in api.cookies
    again = api.get("/login/verify")
    assert prompt_of(again.text) == prompt_of(page.text), "the login is untouched"
    assert path_of(submit_answer(api, again, right)) == "/portal"


def test_the_login_comes_only_from_this_browsers_cookie(
    api: TestClient, alice: None, services: Services
) -> None:
    submit_password(api)
    login_id = api.cookies["sl_login"]
    with TestClient(create_app(services)) as stranger:
        page = stranger.get(f"/login/verify?login_id={login_id}")
        assert path_of(page) == "/?notice=expired" and EXPIRED in page.text
        token = csrf_of(page.text)
        answer = stranger.post(
            "/login/verify",
            data={"response": "12345678", "login_id": login_id, "csrf_token": token},
        )
        assert path_of(answer) == "/?notice=expired"
    assert "data-prompt-type" in api.get("/login/verify").text, "alice's login is unharmed"


# -- device picker, SMS -----------------------------------------------------------------


def test_R_LOGIN_4_the_device_picker_switches_from_dsc_plus_to_sms(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    page = submit_password(api)
    assert prompt_of(page.text)["type"] == "challenge"
    assert "Use another security device" in page.text
    radios = dict(
        re.findall(
            r'name="device_id" value="([^"]+)".*?class="choice-name">([^<]+)<', page.text, re.S
        )
    )
    assert sorted(radios.values()) == ["Digital Security Card+", "SMS"]
    sms_id = next(d for d, name in radios.items() if name == "SMS")
    switched = api.post(
        "/login/device", data={"device_id": sms_id, "csrf_token": csrf_of(page.text)}
    )
    assert path_of(switched) == "/login/verify"
    assert prompt_of(switched.text) == {"type": "sms", "sent_to": "+1•••••••89"}
    assert "Resend code" in switched.text
    home = submit_answer(api, switched, play("sms", switched, clock, services))
    assert path_of(home) == "/portal"
    assert "Tier 1" in home.text


def test_a_single_device_gets_no_picker(api: TestClient, alice: None) -> None:
    page = submit_password(api, "dora")
    assert prompt_of(page.text) == {"type": "code"}
    assert "Use another security device" not in page.text
    assert "Enter the code shown on your device" in page.text


def test_a_foreign_device_cannot_be_picked(api: TestClient, alice: None) -> None:
    page = submit_password(api)
    answer = api.post(
        "/login/device",
        data={"device_id": "dev_0000000000000000", "csrf_token": csrf_of(page.text)},
    )
    assert path_of(answer) == "/login/verify?notice=failed"
    assert prompt_of(answer.text)["type"] == "challenge"


def test_resend_gives_a_new_sms_code_until_the_limit(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    Brokerage().user("alice", KINDS["sms"].device).load(services)
    page = submit_password(api)
    first = play("sms", page, clock, services)
    resent = api.post("/login/resend", data={"csrf_token": csrf_of(page.text)})
    assert path_of(resent) == "/login/verify?notice=resent"
    assert "A new code was sent" in resent.text
    api.post("/login/resend", data={"csrf_token": csrf_of(page.text)})
    refused = api.post("/login/resend", data={"csrf_token": csrf_of(page.text)})
    assert path_of(refused) == "/login/verify?notice=too_many_codes"
    assert "No more codes can be sent for this login" in refused.text
    latest = play("sms", refused, clock, services)
    if latest != first:
        assert FAILED in submit_answer(api, refused, first).text, "the old code is retired"
    assert path_of(submit_answer(api, refused, latest)) == "/portal"


# -- expiry, logout, sessions -----------------------------------------------------------


def test_an_expired_login_goes_back_to_the_form_with_a_notice(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    page = submit_password(api)
    right = play("dsc_plus", page, clock, services)
    clock.advance(minutes=4)
    answer = submit_answer(api, page, right)
    assert path_of(answer) == "/?notice=expired"
    assert EXPIRED in answer.text and 'action="/login"' in answer.text
    assert "sl_login" not in api.cookies
    assert path_of(api.get("/login/verify")) == "/?notice=expired"


# -- words ------------------------------------------------------------------------------


def test_the_second_factor_and_home_pages_speak_chinese(
    api: TestClient, alice: None, clock: FakeClock, services: Services
) -> None:
    api.get("/lang/zh-CN")
    page = submit_password(api)
    assert '<html lang="zh-CN">' in page.text
    assert "双因素验证" in page.text and "挑战码" in page.text and "响应字符串" in page.text
    failed = submit_answer(api, page, "00000000")
    assert "登录失败" in failed.text
    home = submit_answer(api, failed, play("dsc_plus", failed, clock, services))
    assert (
        "欢迎，alice" in home.text and "数码安全卡+" in home.text and ">退出</button>" in home.text
    )


def test_every_device_kind_and_state_has_words_in_both_languages() -> None:
    from securelogin.domain.access import AccessLevel
    from securelogin.domain.devices.catalogue import DeviceKind, DeviceState

    for lang in i18n.CATALOGUES:
        for kind in DeviceKind:
            assert i18n.translate(lang, f"kind.{kind.value}")
        for state in DeviceState:
            assert i18n.translate(lang, f"state.{state.value}")
        for level in AccessLevel:
            assert i18n.translate(lang, f"access.{level.value}")


def test_only_known_notices_are_shown(api: TestClient) -> None:
    page = api.get("/?notice=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script" not in page.text and "notice-" not in page.text
    assert LOGGED_OUT in api.get("/?notice=logged_out").text
