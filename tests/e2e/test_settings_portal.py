"""The security settings pages of the Client Portal (SPEC §5.1, §5.3; R-OPT-1..3,
R-SHARE-1..5) through the real ASGI app, like a browser without JavaScript."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.optout import WAIVER_EN, WAIVER_ZH_CN
from securelogin.service.context import Services
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD
from tests.e2e.portal_forms import (
    ENDED,
    csrf_of,
    log_in,
    messages_of,
    path_of,
    prompt_of,
)
from tests.fakes import FakeClock
from tests.integration.sharing_data import code_card, dsc, dsc_plus, load, sms, user
from tests.mobile_key_app import TestApp


@pytest.fixture
def people(services: Services) -> Services:
    load(
        services,
        user("alice", "E-A", "U1000001", dsc("DSC-A")),
        user("sec", "E-A", "U1000001", code_card("SCC-S"), rights=["trade"]),
        user("owner", "E-A", "U1000002", dsc_plus("DP-O")),
        user("loner", "E-T", "U2000001", opted_out=True),
    )
    return services


def opted_out(services: Services, name: str) -> bool:
    return bool(scalar(url_of(services), f"SELECT opted_out FROM users WHERE username='{name}'"))


def test_R_OPT_1_the_settings_page_names_the_user_who_has_the_right(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    log_in(api, "code_card", clock, people, username="sec")
    page = api.get("/portal/settings")
    assert page.status_code == 200
    notice = re.search(r'id="primary-notice">(.*?)</div>', page.text, re.S)
    assert notice and "U1000001: alice" in notice.group(1)
    assert 'id="opt-out-link"' not in page.text
    refused = api.get("/portal/settings/opt-out", follow_redirects=False)
    assert refused.headers["location"] == "/portal/settings"
    form = {"csrf_token": csrf_of(page.text), "accept": "yes", "password": PASSWORD}
    posted = api.post("/portal/settings/opt-out", data=form | {"digest": "x"})
    assert posted.status_code == 422
    assert "not allowed to change the security settings" in messages_of(posted.text)
    assert not opted_out(people, "sec")


def test_R_OPT_2_opting_out_in_the_portal_signs_the_waiver(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    log_in(api, "dsc", clock, people)
    home = api.get("/portal")
    assert 'href="/portal/settings"' in home.text  # the account menu links the page
    page = api.get("/portal/settings")
    assert 'id="opt-out-link"' in page.text
    for path in ("/portal/settings/mobile-key", "/portal/settings/share"):
        assert f'href="{path}"' in page.text
    zh = api.get("/portal/settings/opt-out", headers={"Accept-Language": "zh-CN"})
    assert WAIVER_ZH_CN in zh.text
    waiver = api.get("/portal/settings/opt-out")
    assert WAIVER_EN.replace("'", "&#39;") in waiver.text
    digest = re.search(r'name="digest" value="(\w+)"', waiver.text)
    assert digest
    form = {"csrf_token": csrf_of(waiver.text), "digest": digest.group(1)}

    unticked = api.post("/portal/settings/opt-out", data=form)
    assert unticked.status_code == 422 and "tick the box" in messages_of(unticked.text)
    assert 'name="password"' not in waiver.text  # the device confirms, not the password

    asked = api.post("/portal/settings/opt-out", data=form | {"accept": "yes"})
    here = path_of(asked)
    assert re.fullmatch(r"/portal/settings/opt-out/cm_[\w-]+", here), here
    assert "Refresh" not in asked.headers  # a typed answer: nothing to wait for
    prompt = prompt_of(asked.text)
    assert prompt["type"] == "code"
    assert not opted_out(people, "alice")  # nothing changes before the device confirms
    answer = {"csrf_token": csrf_of(asked.text), "confirmation_id": here.rsplit("/", 1)[1]}
    wrong = api.post("/portal/settings/opt-out/answer", data=answer | {"response": "000000"})
    assert wrong.status_code == 422 and "response is not correct" in messages_of(wrong.text)
    failures = scalar(url_of(people), "SELECT factor_failures FROM users WHERE username='alice'")
    assert failures == 1 and not opted_out(people, "alice")  # R-LOGIN-3: it counts

    clock.advance(seconds=30)  # the login's TOTP code is spent (R-LOGIN-6)
    right = KINDS["dsc"].answer(prompt, clock.now(), people)
    done = api.post("/portal/settings/opt-out/answer", data=answer | {"response": right})
    assert path_of(done) == "/portal/settings?done=opted_out"
    assert "Your signed agreement has been stored" in messages_of(done.text)
    assert 'data-opted-out="yes"' in done.text and 'name="choice"' in done.text
    assert opted_out(people, "alice")
    assert path_of(api.get(here)) == "/portal/settings?done=opted_out"  # it has ended


def test_R_OPT_2_the_opt_out_push_page_moves_on_by_itself_once_approved(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    people = services
    load(people, user("alice", "E-A", "U1000001", sms()))  # the mobile key is stronger
    log_in(api, "sms", clock, people)
    key = TestApp(clock)
    key.activate(api, people, username="alice")  # now her strongest device
    waiver = api.get("/portal/settings/opt-out")
    digest = re.search(r'name="digest" value="(\w+)"', waiver.text)
    assert digest
    form = {"csrf_token": csrf_of(waiver.text), "digest": digest.group(1), "accept": "yes"}
    waiting = api.post("/portal/settings/opt-out", data=form)
    here = path_of(waiting)
    assert waiting.headers["Refresh"] == "2"  # as the login's push page
    number = re.search(r'id="push-number"[^>]*>(\d\d)<', waiting.text)
    assert number is not None
    assert 'id="push-fallback"' in waiting.text and 'name="response"' not in waiting.text
    assert api.get(here).headers["Refresh"] == "2"  # still pending
    [pending] = key.pushes(api)
    assert pending["purpose"] == "settings"
    assert key.answer(api, pending, number=number.group(1)).status_code == 200
    assert opted_out(people, "alice")  # booked with the approval
    decided = api.get(here)  # the next reload shows the outcome
    assert path_of(decided) == "/portal/settings?done=opted_out"
    assert "Refresh" not in decided.headers


def test_R_LOGIN_5_the_opt_out_push_fallback_shows_the_offline_challenge(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    people = services
    load(people, user("alice", "E-A", "U1000001", sms()))  # the mobile key is stronger
    log_in(api, "sms", clock, people)
    key = TestApp(clock)
    key.activate(api, people, username="alice")
    waiver = api.get("/portal/settings/opt-out")
    digest = re.search(r'name="digest" value="(\w+)"', waiver.text)
    assert digest
    form = {"csrf_token": csrf_of(waiver.text), "digest": digest.group(1), "accept": "yes"}
    here = path_of(api.post("/portal/settings/opt-out", data=form))
    token = csrf_of(api.get(here).text)
    typed = api.post(here + "/fallback", data={"csrf_token": token})
    assert path_of(typed) == here and "Refresh" not in typed.headers
    assert key.pushes(api) == []  # the push was withdrawn
    prompt = prompt_of(typed.text)
    assert prompt["type"] == "challenge" and prompt["challenge"]
    done = api.post(
        "/portal/settings/opt-out/answer",
        data={
            "csrf_token": token,
            "confirmation_id": here.rsplit("/", 1)[1],
            "response": key.respond("alice", str(prompt["challenge"])),
        },
    )
    assert path_of(done) == "/portal/settings?done=opted_out"
    assert opted_out(people, "alice")


def test_R_OPT_3_the_three_ways_back_in(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    answer = api.post(
        "/login",
        data={"username": "loner", "password": PASSWORD, "csrf_token": csrf_of(api.get("/").text)},
    )
    assert path_of(answer) == "/portal"  # opted out, no device: the password alone
    page = api.get("/portal/settings")
    assert len(re.findall(r'name="choice"', page.text)) == 3
    token = csrf_of(page.text)
    expected = {
        "mobile_key": "/portal/settings/mobile-key",
        "share": "/portal/settings/share",
    }
    for choice, where in expected.items():
        moved = api.post(
            "/portal/settings/opt-in",
            data={"csrf_token": token, "choice": choice},
            follow_redirects=False,
        )
        assert moved.status_code == 303 and moved.headers["location"] == where
    card = api.post("/portal/settings/opt-in", data={"csrf_token": token, "choice": "online_card"})
    assert card.status_code == 200
    assert len(re.findall(r'<td class="mono">[A-Z0-9]{3}</td>', card.text)) == 200
    bad = api.post("/portal/settings/opt-in", data={"csrf_token": token, "choice": "nothing"})
    assert bad.status_code == 422
    assert opted_out(people, "loner")


def test_R_SHARE_1_sharing_in_the_portal_protects_the_requester_with_the_owners_device(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    log_in(api, "dsc", clock, people)  # alice, same entity as owner
    form = api.get("/portal/settings/share")
    token = csrf_of(form.text)
    weak = api.post(
        "/portal/settings/share",
        data={"csrf_token": token, "owner": "sec", "owner_password": PASSWORD},
    )
    assert weak.status_code == 422
    assert "Less secure device" in messages_of(weak.text)
    challenge = api.post(
        "/portal/settings/share",
        data={"csrf_token": token, "owner": "owner", "owner_password": PASSWORD},
    )
    assert challenge.status_code == 200
    prompt = prompt_of(challenge.text)
    request_id = re.search(r'name="request_id" value="(\w+)"', challenge.text)
    assert request_id and prompt["type"] == "challenge"
    response = KINDS["dsc_plus"].answer(prompt, clock.now(), people)
    done = api.post(
        "/portal/settings/share/answer",
        data={"csrf_token": token, "request_id": request_id.group(1), "response": response},
    )
    # alice's own DSC was retired, so the session it opened ended (R-SHARE-5, R-LOGIN-11)
    assert path_of(done) == "/?notice=session_ended" and ENDED in done.text
    again = log_in(api, "dsc_plus", clock, people)
    assert path_of(again) == "/portal"
    settings_page = api.get("/portal/settings")
    assert "Approved" in settings_page.text


def test_R_SHARE_3_a_wrong_owner_password_shows_the_helpful_message(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    log_in(api, "dsc", clock, people)
    token = csrf_of(api.get("/portal/settings/share").text)
    wrong = api.post(
        "/portal/settings/share",
        data={"csrf_token": token, "owner": "owner", "owner_password": "Nope-Nope-1"},
    )
    assert wrong.status_code == 422
    assert "password or the device" in messages_of(wrong.text)
    no_csrf = api.post("/portal/settings/share", data={"owner": "owner"})
    assert no_csrf.status_code == 403


def test_every_page_the_settings_page_links_to_exists(
    api: TestClient, people: Services, clock: FakeClock
) -> None:
    log_in(api, "dsc", clock, people, username="alice")
    page = api.get("/portal/settings")
    links = sorted(set(re.findall(r'href="(/portal/[^"#?]*)"', page.text)))
    assert "/portal/settings/mobile-key" in links and "/portal/replacement" in links
    for link in links:
        assert api.get(link).status_code == 200, link


def start_pushed_share(api: TestClient, services: Services, clock: FakeClock) -> TestApp:
    """twin (a trust with Alice's identification: compliance decides, so twin's session
    survives the approval) asks to share Alice's mobile key, which gets a push."""
    load(
        services,
        user("alice", "E-A", "U1000001", sms()),
        user("twin", "E-T", "U2000001", code_card("SCC-T")),
    )
    key = TestApp(clock)
    key.activate(api, services, username="alice")
    log_in(api, "code_card", clock, services, username="twin")
    return key


def ask_to_share(api: TestClient, key: TestApp) -> TestClient:
    token = csrf_of(api.get("/portal/settings/share").text)
    data = {"csrf_token": token, "owner": "alice", "owner_password": PASSWORD}
    return api.post("/portal/settings/share", data=data | {"device_id": key.devices["alice"]})


def test_R_SHARE_1_the_share_page_moves_on_by_itself_once_the_owner_approves_the_push(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    key = start_pushed_share(api, services, clock)
    waiting = ask_to_share(api, key)
    here = path_of(waiting)
    assert re.fullmatch(r"/portal/settings/share/sr_[0-9a-f]{24}", here), here
    # the push page: reloads every 2 s like the login's, the number, the same fallback
    assert waiting.headers["Refresh"] == "2"
    number = re.search(r'id="push-number"[^>]*>(\d\d)<', waiting.text)
    assert number is not None
    assert 'id="push-fallback"' in waiting.text and "do not receive the notification" in (
        waiting.text
    )
    assert 'name="response"' not in waiting.text  # nothing to type while the push waits
    assert api.get(here).headers["Refresh"] == "2"  # still pending: reload again
    [pending] = key.pushes(api)
    assert pending["purpose"] == "share"
    assert key.answer(api, pending, number=number.group(1)).status_code == 200
    decided = api.get(here)  # the next reload shows the outcome
    assert path_of(decided) == "/portal/settings?done=share_pending"
    assert "Refresh" not in decided.headers
    assert "needs the approval of our Compliance department" in messages_of(decided.text)
    other = api.get("/portal/settings/share/sr_000000000000000000000000")
    assert path_of(other) == "/portal/settings"  # someone else's / no such request


def test_R_LOGIN_5_the_share_pages_fallback_shows_the_offline_challenge(
    api: TestClient, services: Services, clock: FakeClock
) -> None:
    key = start_pushed_share(api, services, clock)
    waiting = ask_to_share(api, key)
    here = path_of(waiting)
    token = csrf_of(waiting.text)
    assert api.post(here + "/fallback", data={}).status_code == 403  # no CSRF token
    typed = api.post(here + "/fallback", data={"csrf_token": token})
    assert path_of(typed) == here and "Refresh" not in typed.headers
    assert key.pushes(api) == []  # the push was withdrawn
    prompt = prompt_of(typed.text)
    assert prompt["type"] == "challenge" and prompt["challenge"]
    request_id = here.rsplit("/", 1)[1]
    done = api.post(
        "/portal/settings/share/answer",
        data={
            "csrf_token": token,
            "request_id": request_id,
            "response": key.respond("alice", str(prompt["challenge"])),
        },
    )
    assert path_of(done) == "/portal/settings?done=share_pending"
