"""The whole lost-device story through the Client Portal, with a moving clock (issue 6):

temporary code on day 0 → ``card_only`` on day 3 → online security code card → replacement
DSC+ requested and shipped → reminder on day 18 after shipping → auto-activation on day 21
after shipping → the device is returned and received → the deposit hold is released.

The user's steps are browser requests (forms, CSRF tokens, cookies); the helpdesk and
logistics steps are the service calls their console and CLI make; the background work is
one ``jobs.run_once`` pass per day.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from securelogin.service.lifecycle import jobs, replacement, returns
from tests.dbutil import scalar, url_of
from tests.e2e.portal_forms import csrf_of, path_of, prompt_of, submit_password
from tests.fakes import FakeClock
from tests.lifecycle_kit import (
    LOGISTICS,
    NEW_SERIAL,
    SOFT_PIN,
    USER,
    dsc_plus_answer,
    lose_device,
    stock_dsc_plus,
)


def _login(services: Services, answer: object) -> TestClient:
    """A fresh browser that logs in; ``answer(prompt)`` plays the device."""
    client = TestClient(create_app(services))
    page = submit_password(client, USER)
    assert path_of(page) == "/login/verify", page.text
    prompt = prompt_of(page.text)
    response = answer(prompt)  # type: ignore[operator]
    data = {"csrf_token": csrf_of(page.text)}
    if prompt["type"] == "card":
        data |= {"response": response[:3], "response_2": response[3:]}
    else:
        data["response"] = response
    client.post("/login/verify", data=data)
    return client


def _post(client: TestClient, page_path: str, action: str, **fields: str):
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf_token": csrf_of(page.text), **fields})


def test_R_LOST_whole_story_from_temporary_code_to_released_deposit(
    services: Services, clock: FakeClock
) -> None:
    url = url_of(services)
    # day 0: the helpdesk verifies the caller, marks the DSC+ lost, issues a temporary code
    story = lose_device(services)
    day0 = _login(services, lambda prompt: story.temporary_code)
    assert path_of(day0.get("/portal")) == "/portal"  # full access for 2 days (R-LOGIN-9)

    # day 3: the same code gives card_only; the user activates an online card (R-LOST-2)
    clock.advance(days=3)
    browser = _login(services, lambda prompt: story.temporary_code)
    landing = browser.get("/portal")
    assert path_of(landing) == "/portal/card-only"
    card_page = _post(browser, "/portal/online-card", "/portal/online-card")
    values = dict(re.findall(r'data-index="(\d+)">([A-Z0-9]{3})<', card_page.text))
    assert len(values) == 200
    first, second = (int(i) for i in re.findall(r'class="card-index">(\d+)<', card_page.text))
    device_id = re.search(r'name="device_id" value="([^"]+)"', card_page.text)
    assert device_id
    done = browser.post(
        "/portal/online-card/activate",
        data={
            "csrf_token": csrf_of(card_page.text),
            "device_id": device_id.group(1),
            "first": values[str(first)],
            "second": values[str(second).lower()],
        },
    )
    assert path_of(done) == "/portal/replacement?done=card"
    assert 'id="card-activated"' in done.text

    # R-LOST-3: replacement DSC+: address, soft PIN, deposit account → overview → confirm
    overview = _post(
        browser,
        "/portal/replacement",
        "/portal/replacement",
        address="1 Harbour Road\nSpringfield",
        pin=SOFT_PIN,
        account="U7000001",
    )
    assert "/portal/replacement/rq_" in path_of(overview)
    confirmed = _post(browser, path_of(overview), path_of(overview) + "/confirm")
    assert 'id="ship-date"' in confirmed.text and 'id="confirmed"' in confirmed.text
    assert scalar(url, "SELECT state FROM account_holds") == "held"

    # R-LOST-4: logistics assigns a DSC+ from the inventory and ships it (day 3)
    stock_dsc_plus(services)
    request_id = path_of(overview).rsplit("/", 1)[1]
    replacement.assign_device(services, LOGISTICS, request_id=request_id, serial=NEW_SERIAL)
    replacement.ship(services, LOGISTICS, request_id=request_id)

    # the background jobs run every day; the reminder comes on day 18 after shipping, once
    reminders = []
    for _day in range(1, 21):
        clock.advance(days=1)
        reminders.append(jobs.run_once(services).reminded)
    assert reminders.index(1) == 17 and sum(reminders) == 1  # day 18 after shipping
    with_card = _login(
        services, lambda p: values[str(p["indices"][0])] + values[str(p["indices"][1])]
    )
    inbox = with_card.get("/portal/messages")
    assert "activates on" in inbox.text and "has shipped" in inbox.text

    # day 21 after shipping: activated automatically, exactly once
    clock.advance(days=1)
    report = jobs.run_once(services)
    assert report.activated == 1
    assert jobs.run_once(services).activated == 0
    assert scalar(url, f"SELECT state FROM devices WHERE serial = '{NEW_SERIAL}'") == "active"
    assert scalar(url, "SELECT state FROM devices WHERE kind = 'temporary_code'") != "active"

    # the new DSC+ (with the soft PIN) is now the login device
    dsc = _login(services, lambda p: dsc_plus_answer(p["challenge"]))
    assert path_of(dsc.get("/portal")) == "/portal"

    # R-RETURN-1/2: the user returns the device; logistics records receipt → hold released
    devices_page = dsc.get("/portal/returns")
    option = re.search(r'<option value="(dv_[^"]+|[^"]+)">[^<]*' + NEW_SERIAL, devices_page.text)
    assert option, devices_page.text
    started = dsc.post(
        "/portal/returns",
        data={
            "csrf_token": csrf_of(devices_page.text),
            "device_id": option.group(1),
            "reason": "consolidated",
            "region": "japan",
        },
    )
    assert "Tokyo 100-6025" in started.text and "東京都千代田区" in started.text
    pending = returns.pending_returns(services, LOGISTICS)
    returns.record_receipt(services, LOGISTICS, return_id=pending[0].id)
    assert scalar(url, "SELECT state FROM account_holds") == "released"
    assert scalar(url, f"SELECT state FROM devices WHERE serial = '{NEW_SERIAL}'") == "returned"
