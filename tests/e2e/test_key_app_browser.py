"""The mobile key web app at /key/ on a phone (issue 15), in Debian's chromium with a
390×844 phone viewport: it installs (service worker, offline reload), its OCRA code passes
every OCRA vector in the browser, it activates by SMS code (R-KEY-1/2), holds a second
username (R-KEY-3), approves a portal login in another browser context with number
matching where the wrong number denies (R-KEY-4), and answers the portal's challenge with
the network off (R-KEY-5); a withdrawal shows its amount and destination and is
approved the same way; it activates by reading the portal's QR code with a (fake) camera,
and says so and offers the typed code when the camera is refused. Screenshots in English
and Simplified Chinese go to test-artifacts/screenshots/."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from securelogin.adapters.security.webauthn import PyWebAuthnRelyingParty
from securelogin.entrypoints.api.app import create_app
from securelogin.service.ceremony import push
from securelogin.service.context import Services
from tests import withdrawal_kit
from tests.devices import KINDS, PASSWORD, PHONE, Brokerage
from tests.e2e.browser_support import (
    TestBrowser,
    chromium,
    connected,
    device_answer,
    enter_password,
    log_in,
    open_page,
    running,
    shot,
)
from tests.e2e.live import serve
from tests.mobile_key_app import last_sms
from tests.webpush_kit import (
    FakeGcm,
    PushServiceFake,
    ToLoopback,
    vapid_provider,
    with_webpush,
)

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors.json"
PHONE_VIEWPORT = {"width": 390, "height": 844}
APP_PIN = "2468"
RECOVERY_PIN = "k3y!"
LABELS = ("Username", "Password", "Log In")
BOB_PHONE = "+15551230090"
#: what a page may log as an error: the requests that fail on purpose while offline
#: what the app keeps in IndexedDB: no CryptoKey and no PIN check value — the vault's
#: keys sealed (a copied store opens only with the server's share), the OCRA secrets
#: camouflaged under the offline key
STORED_KEYS = """() => new Promise((resolve) => {
  indexedDB.open("securelogin-key").onsuccess = (e) => {
    const tx = e.target.result.transaction(["app", "users"]);
    const out = {};
    tx.objectStore("app").get("app").onsuccess = (r) => { out.app = r.target.result; };
    tx.objectStore("users").getAll().onsuccess = (r) => { out.users = r.target.result; };
    tx.oncomplete = () => {
      const keys = (o) => Object.values(o).filter((v) => v instanceof CryptoKey).length;
      resolve([
        out.app.vault, "pin" in out.app, keys(out.app), typeof out.app.signing.data,
        typeof out.app.dk.pin.data, typeof out.app.offline.pin.data,
        ...out.users.map((u) => [keys(u), typeof u.ocra.data]),
      ]);
    };
  };
})"""
OFFLINE_NOISE = re.compile(r"ERR_INTERNET_DISCONNECTED|Failed to fetch")
#: the server's refusal of the wrong app PIN (401 app_pin_wrong), which the browser logs
PIN_REFUSED = re.compile(r"status of 401")
#: a chromium whose camera plays a Y4M file; no --use-fake-ui-for-media-stream, which would
#: say yes to every page even where the camera's permission is denied
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream"]
CAMERA_SIZE = (640, 480)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    sms = KINDS["sms"].device
    yield from running(
        tmp_path,
        lambda s: Brokerage().user("alice", sms).user("bob", sms, phone=BOB_PHONE).load(s),
    )


@pytest.fixture
def live(services: Services) -> Iterator[tuple[str, httpx.Client]]:
    yield from served(services, ("alice", "bob"))


def served(services: Services, usernames: tuple[str, ...]) -> Iterator[tuple[str, httpx.Client]]:
    """The app on a live server; for a fixture (``yield from``)."""
    with serve(create_app(services)) as url, httpx.Client(base_url=url, timeout=30) as api:
        yield url, api
        # an app's long-poll holds a request open up to 20 s after its page closed: a
        # login of a username it holds wakes it, so that the server stops at once
        for username in usernames:
            api.post("/api/v1/logins", json={"username": username, "password": PASSWORD})


@pytest.fixture
def push_live(services: Services) -> Iterator[tuple[str, httpx.Client]]:
    """The server offers Web Push (a VAPID key): activation asks for consent first."""
    yield from served(with_webpush(services, vapid_provider()[0]), ("alice", "bob"))


@pytest.fixture
def funded(tmp_path: Path) -> Iterator[Services]:
    yield from running(tmp_path, lambda s: withdrawal_kit.load(s, {"maya": ["sms"]}))


@pytest.fixture
def funded_live(funded: Services) -> Iterator[tuple[str, httpx.Client]]:
    yield from served(funded, ("maya",))


def audit_actions(services: Services) -> list[str]:
    with services.uow() as uow:
        return [c.event.action for c in list(uow.audit.chain())]


def phone(browser: Any, locale: str, problems: list[str]) -> tuple[Any, Any]:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, locale=locale, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return context, page


def on_screen(page: Any) -> Any:
    """The app's screen on show (the others are in the page, hidden)."""
    return page.locator("section.screen:not([hidden])")


def activate(
    page: Any,
    server: str,
    services: Services,
    username: str = "alice",
    *,
    consent: str = "",
    sms_to: str = PHONE,
) -> None:
    """Username + password → the phone on record → SMS code, app PIN, recovery PIN; and
    when the server offers Web Push, ``consent`` is the button pressed on its screen."""
    from playwright.sync_api import expect

    page.goto(server + "/key/")
    page.locator("#start-activation").click()
    page.locator("#act-username").fill(username)
    page.locator("#act-password").fill(PASSWORD)
    page.locator("#activate-form button[type=submit]").click()
    expect(page.locator("#phone-choices input:checked")).to_have_count(1)
    page.locator("#phone-form button[type=submit]").click()
    expect(page.locator("#code-sent")).to_contain_text("•")
    page.locator("#fin-code").fill(last_sms(services, sms_to)[:6])
    page.locator("#fin-pin").fill(APP_PIN)
    page.locator("#fin-pin2").fill(APP_PIN)
    page.locator("#fin-recovery").fill(RECOVERY_PIN)
    page.locator("#finish-form button[type=submit]").click()
    if consent:
        expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
        shot(page, "key-app-consent-en")
        page.get_by_role("button", name=consent).click()
    expect(page.locator("#users li")).to_have_text([username])


def add_user(page: Any, username: str) -> None:
    """R-KEY-3: another username in the same app, its password and the recovery PIN."""
    page.locator("#open-add-user").click()
    form = on_screen(page)
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_label("Recovery PIN").fill(RECOVERY_PIN)
    form.get_by_role("button", name="Add").click()


def test_R_KEY_5_the_app_installs_activates_and_answers_the_challenge_offline(
    live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    server, _ = live
    problems: list[str] = []
    context, app = phone(browser, "en-US", problems)
    app.goto(server + "/key/")
    expect(app.get_by_role("heading", level=1)).to_have_text("Your Mobile Key")
    assert app.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == server + "/key/"
    assert app.evaluate("document.querySelector('link[rel=manifest]').href") == (
        server + "/key/manifest.webmanifest"
    )
    # the app's own OCRA module, in this browser, on every OCRA vector
    vectors = [v for v in json.loads(VECTORS.read_text())["vectors"] if v["type"] == "OCRA"]
    wrong = app.evaluate(
        """async (vectors) => {
          const m = await import("/key/ocra.js");
          const wrong = [];
          for (const v of vectors) {
            const key = await m.importOcraKey(m.hexToBytes(v.key_hex), v.suite);
            const i = v.inputs;
            const got = await m.ocra(v.suite, key, {
              question: i.question, counter: i.counter, pin: i.pin, mutual: "role" in v,
              timestamp: i.timestamp_hex === undefined ? undefined : BigInt("0x" + i.timestamp_hex),
            });
            if (got !== v.expected || key.extractable) wrong.push(v.id);
          }
          return wrong;
        }""",
        vectors,
    )
    assert len(vectors) >= 70 and wrong == []

    activate(app, server, services)
    # R-KEY-3: a second username in the same app, with its password and the recovery PIN
    add_user(app, "bob")
    expect(app.locator("#users li")).to_have_text(["alice", "bob"])
    keys = app.evaluate(STORED_KEYS)
    assert keys == [2, False, 0, "string", "string", "string", [0, "string"], [0, "string"]]
    shot(app, "key-app-home-en")

    # the portal, on a computer: the push is not coming, so the person asks for the challenge
    portal = open_page(browser, "en-US", problems)
    enter_password(portal, server, "alice", LABELS)
    expect(portal.locator("section.verify")).to_have_attribute("data-prompt-type", "push")
    portal.get_by_role("button", name="Click here if you do not receive the notification").click()
    challenge = portal.locator("#challenge-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", challenge)

    # online, the app PIN is checked with the server's help (issue 12 §6): it counts
    app.reload()
    on_screen(app).get_by_label("App PIN").fill("1357")
    on_screen(app).get_by_role("button", name="Unlock", exact=True).click()
    expect(app.locator("#message")).to_have_text("Wrong app PIN.")

    # the phone has no network: the app still opens (service worker) and answers; the PIN
    # cannot be checked offline, so a wrong one gives a wrong response (camouflage)
    context.set_offline(True)
    app.reload()

    def respond(pin: str) -> str:
        expect(app.get_by_role("heading", level=1)).to_have_text("Unlock")
        on_screen(app).get_by_label("App PIN").fill(pin)
        on_screen(app).get_by_role("button", name="Unlock", exact=True).click()
        expect(app.locator("#poll-state")).to_have_attribute("data-state", "offline")
        app.locator("#open-challenge").click()
        on_screen(app).get_by_label("Username").select_option("alice")
        on_screen(app).get_by_label("Challenge").fill(challenge)
        on_screen(app).get_by_role("button", name="Show the response").click()
        expect(app.locator("#response-code")).to_have_text(re.compile(r"^\d{8}$"))
        return str(app.locator("#response-code").inner_text())

    wrong = respond("1357")
    app.reload()
    right = respond(APP_PIN)
    assert wrong != right
    shot(app, "key-app-challenge-en")
    portal.locator("#response").fill(right)
    portal.locator("form.verify-form button[type=submit]").click()
    expect(portal).to_have_url(server + "/portal")
    context.close()
    assert [p for p in problems if not (OFFLINE_NOISE.search(p) or PIN_REFUSED.search(p))] == []


def test_R_KEY_4_a_portal_login_is_approved_in_the_app_and_the_wrong_number_denies(
    live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    server, _ = live
    problems: list[str] = []
    context, app = phone(browser, "zh-CN", problems)
    activate(app, server, services)
    expect(app.get_by_role("heading", level=1)).to_have_text("移动验证程序")
    expect(app.locator("#poll-state")).to_have_text("正在等待登录请求…")

    # first login: the wrong number is tapped, the request is denied
    portal = open_page(browser, "en-US", problems)
    enter_password(portal, server, "alice", LABELS)
    number = portal.locator("#push-number").inner_text().strip()
    card = app.locator("article.request")
    expect(card).to_have_count(1)
    expect(card.locator("h2")).to_have_text("alice 正在登录")
    choices = card.locator("button.number").all_inner_texts()
    assert number in choices and len(set(choices)) == 3
    shot(app, "key-app-push-zh-CN")
    app.set_viewport_size({"width": 360, "height": 740})  # a smaller phone: still one screen
    assert app.evaluate("document.documentElement.scrollWidth") <= 360
    shot(app, "key-app-push-zh-CN-360")
    card.get_by_role("button", name=next(c for c in choices if c != number)).click()
    expect(app.locator("#outcome")).to_have_attribute("data-outcome", "mismatch")
    expect(app.locator("#outcome")).to_have_text("该数字与登录页面上的不符：请求已被拒绝。")
    expect(card).to_have_count(0)
    portal.reload()
    expect(portal).to_have_url(server + "/login/verify")  # not logged in

    # a new login; the person switches the app to English and taps the right number
    enter_password(portal, server, "alice", LABELS)
    number = portal.locator("#push-number").inner_text().strip()
    app.get_by_role("button", name="English").click()
    expect(card.locator("h2")).to_have_text("Login by alice")
    expect(card.locator(".pick")).to_have_text("Tap the number shown on the login screen")
    expect(app.locator("#outcome")).to_have_text(  # what was said before follows the language
        "That was not the number on the login screen: the request was denied."
    )
    shot(app, "key-app-push-en")
    card.get_by_role("button", name=number, exact=True).click()
    expect(app.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    expect(portal).to_have_url(server + "/portal", timeout=10_000)  # the page's own refresh
    expect(portal.get_by_role("heading", level=1)).to_have_text("Welcome, alice")
    shot(app, "key-app-approved-en")
    context.close()
    assert [p for p in problems if "status of 422" not in p] == []  # the number_mismatch


def test_R_KEY_3_activation_by_the_portal_code_and_moving_to_a_new_phone(
    live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    from playwright.sync_api import expect

    server, _ = live
    problems: list[str] = []
    # the portal (logged in by SMS code) shows the QR code and its link under it
    portal = open_page(browser, "en-US", problems)
    log_in(portal, server, "alice", device_answer("sms", services))
    portal.goto(server + "/portal/settings/mobile-key")
    expect(portal.locator("#app-link")).to_have_attribute("href", server + "/key/")
    expect(portal.locator("figure.app-qr svg")).to_be_visible()  # install the app: QR of /key/
    portal.get_by_role("button", name="Activate the Mobile Key by QR code").click()
    link = portal.locator("#activation-link").inner_text().strip()

    old_context, old_phone = phone(browser, "en-US", problems)
    old_phone.goto(server + "/key/")
    old_phone.get_by_role("button", name="I have an activation code from the portal").click()
    on_screen(old_phone).get_by_label("Activation link or code").fill("securelogin-key://nope")
    on_screen(old_phone).get_by_role("button", name="Continue").click()
    expect(old_phone.locator("#message")).to_have_text(
        "That is not an activation code of the portal."
    )
    on_screen(old_phone).get_by_label("Activation link or code").fill(link)
    on_screen(old_phone).get_by_role("button", name="Continue").click()
    expect(old_phone.locator("#fin-code")).to_be_hidden()  # the portal session stood for it
    old_phone.locator("#fin-pin").fill(APP_PIN)
    old_phone.locator("#fin-pin2").fill(APP_PIN)
    old_phone.locator("#fin-recovery").fill(RECOVERY_PIN)
    old_phone.locator("#finish-form button[type=submit]").click()
    expect(old_phone.locator("#users li")).to_have_text(["alice"])
    add_user(old_phone, "bob")
    expect(old_phone.locator("#users li[data-state=active]")).to_have_count(2)

    # a new phone: SMS activation with the recovery PIN set on the old one (R-KEY-2);
    # alice's key then lives there only (one phone per username, R-KEY-3)
    _, new_phone = phone(browser, "en-US", problems)
    activate(new_phone, server, services)
    old_phone.reload()
    on_screen(old_phone).get_by_label("App PIN").fill(APP_PIN)
    on_screen(old_phone).get_by_role("button", name="Unlock", exact=True).click()
    expect(old_phone.locator("#users li")).to_have_text(["alice: moved to another phone", "bob"])
    expect(old_phone.locator("#users li[data-state=replaced]")).to_have_count(1)
    shot(old_phone, "key-app-moved-en")
    old_phone.locator("#open-challenge").click()  # only bob's key can still answer
    expect(old_phone.locator("#challenge-user option")).to_have_text(["bob"])
    old_context.close()
    assert problems == []


def test_R_KEY_4_a_withdrawal_is_shown_with_amount_and_destination_and_approved(
    funded_live: tuple[str, httpx.Client], browser: Any, funded: Services
) -> None:
    from playwright.sync_api import expect

    server, api = funded_live
    problems: list[str] = []
    token = withdrawal_kit.session_token(funded, "maya", "sms")
    _, app = phone(browser, "en-US", problems)
    activate(app, server, funded, "maya")
    started = api.post(
        "/api/v1/withdrawals",
        json={
            "account": withdrawal_kit.ACCOUNT,
            "amount": "250.00",
            "destination": "Chase ****1234",
        },
        headers=withdrawal_kit.bearer(token) | {"Idempotency-Key": "k-app"},
    )
    assert started.status_code == 201, started.json()
    prompt = started.json()["factor"]["prompt"]
    assert prompt["type"] == "push"
    card = app.locator("article.request")
    expect(card.locator("h2")).to_have_text("Withdrawal of USD 250.00 to Chase ****1234 by maya")
    shot(app, "key-app-withdrawal-en")
    card.get_by_role("button", name=prompt["number"], exact=True).click()
    expect(app.locator("#outcome")).to_have_attribute("data-outcome", "approved")
    withdrawal = started.json()["withdrawal_id"]
    state = api.get(f"/api/v1/withdrawals/{withdrawal}", headers=withdrawal_kit.bearer(token))
    assert state.status_code == 200 and state.json()["status"] == "accepted", state.json()
    assert problems == []


def virtual_authenticator(cdp: Any, **options: Any) -> str:
    """A platform authenticator with user verification (Chromium's virtual one)."""
    cdp.send("WebAuthn.enable")
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
            | options
        },
    )
    return str(answer["authenticatorId"])


def test_key_app_biometric_unlock_with_a_virtual_authenticator_and_its_refusal(
    live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    """WebAuthn needs a domain as its RP ID: the app is opened on ``localhost``."""
    from playwright.sync_api import expect

    server = live[0].replace("127.0.0.1", "localhost")
    # the origin the browser sends: this test's port (settings name it in production)
    cast(PyWebAuthnRelyingParty, services.webauthn).origins.append(server)
    problems: list[str] = []
    _, app = phone(browser, "en-US", problems)
    cdp = app.context.new_cdp_session(app)
    authenticator = virtual_authenticator(cdp)  # no PRF
    activate(app, server, services)
    app.get_by_role("button", name="Turn on biometric unlock").click()
    expect(app.locator("#bio-state")).to_be_visible()
    # no PRF in this authenticator: offline stays PIN-only, and the app says so
    expect(app.locator("#bio-offline")).to_have_attribute("data-prf", "no")
    expect(app.locator("#bio-offline")).to_have_text(
        "This phone's authenticator cannot open the app offline: offline, type the app PIN."
    )
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["rpId"] == "localhost"

    app.get_by_role("button", name="Lock", exact=True).click()
    app.get_by_role("button", name="Unlock with biometrics").click()
    expect(app.locator("#screen-home")).to_be_visible()  # no PIN typed
    expect(app.locator("#poll-state")).to_have_attribute("data-state", "waiting")  # signs again
    # the server verified the assertion and released the share (audited), the count moved
    assert "mobile_key.biometric_unlock" in audit_actions(services)
    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert used["signCount"] >= 1

    # the platform cannot verify the person: no unlock, the PIN still works
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    app.get_by_role("button", name="Lock", exact=True).click()
    app.get_by_role("button", name="Unlock with biometrics").click()
    expect(app.locator("#message")).to_have_text("The biometric check failed. Use the app PIN.")
    expect(app.get_by_role("heading", level=1)).to_have_text("Unlock")
    on_screen(app).get_by_label("App PIN").fill(APP_PIN)
    on_screen(app).get_by_role("button", name="Unlock", exact=True).click()
    expect(app.locator("#screen-home")).to_be_visible()
    assert audit_actions(services).count("mobile_key.biometric_unlock") == 1

    # offline, without PRF, biometrics cannot open the app: the PIN is the way
    app.context.set_offline(True)
    app.reload()
    app.get_by_role("button", name="Unlock with biometrics").click()
    expect(app.locator("#message")).to_have_text(
        "Offline, biometrics cannot open the app on this phone. Type the app PIN."
    )
    assert [p for p in problems if not OFFLINE_NOISE.search(p)] == []


def test_R_KEY_5_offline_a_biometric_unlock_with_prf_answers_the_challenge(
    live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    """The authenticator supports the WebAuthn PRF extension (CTAP2 hmac-secret): the
    offline key is also wrapped under its output, so with the network off a local
    biometric assertion — no server — opens the Challenge screen, and the response is
    accepted by the portal. A wrong PRF output (a copied store without the authenticator)
    opens nothing, nor does an assertion without user verification."""
    from playwright.sync_api import expect

    server = live[0].replace("127.0.0.1", "localhost")
    cast(PyWebAuthnRelyingParty, services.webauthn).origins.append(server)
    problems: list[str] = []
    context, app = phone(browser, "en-US", problems)
    cdp = context.new_cdp_session(app)
    authenticator = virtual_authenticator(cdp, hasPrf=True)
    activate(app, server, services)
    app.get_by_role("button", name="Turn on biometric unlock").click()
    expect(app.locator("#bio-offline")).to_have_attribute("data-prf", "yes")
    expect(app.locator("#bio-offline")).to_have_text("Offline, biometrics also answer challenges.")
    shot(app, "key-app-bio-offline-en")
    app.get_by_role("button", name="中文").click()
    expect(app.locator("#bio-offline")).to_have_text("离线时也可使用生物识别回答挑战码。")
    shot(app, "key-app-bio-offline-zh-CN")
    app.get_by_role("button", name="English").click()

    # what the store keeps: the PRF salt and the offline key sealed (AES-GCM), no CryptoKey,
    # and the PRF output never went to the server
    stored = app.evaluate(
        """() => import("/key/store.js").then((m) => m.getApp()).then((a) => [
          typeof a.bio.prf.salt, typeof a.bio.prf.ok.iv, typeof a.bio.prf.ok.data,
          Object.values(a.bio).filter((v) => v instanceof CryptoKey).length])"""
    )
    assert stored == ["string", "string", "string", 0]
    # a copied store without the authenticator: any other 32 bytes open nothing
    copied = app.evaluate(
        """async () => {
          const vault = await import("/key/vault.js");
          const record = await (await import("/key/store.js")).getApp();
          try {
            await vault.openOfflineWithPrf(record, crypto.getRandomValues(new Uint8Array(32)));
            return "opened";
          } catch (error) { return error.name; }
        }"""
    )
    assert copied == "OperationError"

    portal = open_page(browser, "en-US", problems)
    enter_password(portal, server, "alice", LABELS)
    portal.get_by_role("button", name="Click here if you do not receive the notification").click()
    challenge = portal.locator("#challenge-code").inner_text().strip()

    context.set_offline(True)
    app.reload()
    unlocks = audit_actions(services).count("mobile_key.biometric_unlock")
    app.get_by_role("button", name="Unlock with biometrics").click()
    expect(app.locator("#poll-state")).to_have_attribute("data-state", "offline")
    app.locator("#open-challenge").click()
    on_screen(app).get_by_label("Challenge").fill(challenge)
    on_screen(app).get_by_role("button", name="Show the response").click()
    expect(app.locator("#response-code")).to_have_text(re.compile(r"^\d{8}$"))
    response = app.locator("#response-code").inner_text()
    assert audit_actions(services).count("mobile_key.biometric_unlock") == unlocks  # no server
    portal.locator("#response").fill(response)
    portal.locator("form.verify-form button[type=submit]").click()
    expect(portal).to_have_url(server + "/portal")

    # the platform cannot verify the person: nothing opens (the PRF secret of a verified
    # user is not given out)
    on_screen(app).get_by_role("button", name="Back").click()
    app.get_by_role("button", name="Lock", exact=True).click()
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    app.get_by_role("button", name="Unlock with biometrics").click()
    expect(app.locator("#message")).to_have_text("The biometric check failed. Use the app PIN.")
    expect(app.get_by_role("heading", level=1)).to_have_text("Unlock")
    context.close()
    assert [p for p in problems if not OFFLINE_NOISE.search(p)] == []


def test_R_KEY_4_notifications_are_asked_for_after_a_consent_screen(
    push_live: tuple[str, httpx.Client], browser: Any, services: Services
) -> None:
    """Permission granted: the app subscribes (Playwright's contexts are incognito, where
    Chrome has no Push API, so the subscription fails, Chrome logs why, and the app says
    notifications are off; Web Push delivery is tested against a fake push service in
    tests/integration/test_push_providers.py) and its service worker shows a request's
    notification. Permission denied: no subscription,
    the activation goes on. Either way the pull channel brings the requests."""
    from playwright.sync_api import expect

    server, _ = push_live
    problems: list[str] = []
    granted, app = phone(browser, "en-US", problems)
    granted.grant_permissions(["notifications"])
    activate(app, server, services, consent="Allow notifications")
    expect(app.locator("#push-note")).to_be_visible()
    assert app.evaluate("Notification.permission") == "granted"
    app.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.active.postMessage("
        "{type: 'show-push', push_id: 'ps_test'}))"
    )
    app.wait_for_function(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
        ".then((n) => n.some((x) => x.tag === 'push-ps_test'))"
    )

    _, other = phone(browser, "en-US", problems)  # no permission: the browser says no
    activate(other, server, services, "bob", consent="Allow notifications", sms_to=BOB_PHONE)
    expect(other.locator("#push-note")).to_be_visible()
    assert other.evaluate("Notification.permission") != "granted"
    assert [p for p in problems if "Push API in incognito" not in p] == []


@pytest.fixture(scope="module")
def gcm_chromium() -> Iterator[tuple[str, FakeGcm]]:
    """A chromium of this module's own whose GCM client (Chrome's push subscriptions)
    checks in and registers with a loopback fake of Google's GCM."""
    gcm = FakeGcm()
    with gcm.serve() as base, chromium(FakeGcm.switches(base)) as endpoint:
        yield endpoint, gcm


@pytest.fixture
def real_push(services: Services) -> Iterator[tuple[str, Services, PushServiceFake]]:
    """The server offers Web Push with a VAPID key; its real Web Push adapter delivers to
    a loopback push service that checks VAPID and the aes128gcm body (the browser's
    endpoint, Google's host, is mapped to it by the test's provider only)."""
    vapid, _ = vapid_provider()
    service = PushServiceFake(vapid.application_server_key)
    with service.serve() as base:
        wired = with_webpush(services, ToLoopback(vapid, base))
        for server, _ in served(wired, ("alice", "bob")):
            yield server, wired, service


def app_record(page: Any) -> dict[str, Any]:
    return cast(
        dict[str, Any],
        page.evaluate('() => import("/key/store.js").then((m) => m.getApp())'),
    )


SUBSCRIPTION = (
    "navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())"
    ".then((s) => s && s.toJSON())"
)


def test_R_KEY_4_notifications_are_turned_on_after_the_activation_with_a_real_subscription(
    real_push: tuple[str, Services, PushServiceFake],
    gcm_chromium: tuple[str, FakeGcm],
    services: Services,
) -> None:
    """Activated without notifications, the app turns them on from its home screen: the
    consent screen, the browser's permission, a real ``pushManager.subscribe`` (Chrome's
    own context — not incognito — registered with the GCM fake), the subscription sent
    with the signed PUT …/push; a login's wake-up then goes through the server's Web Push
    adapter to the push-service fake; "Turn off" clears it on both sides. Where the
    browser does not allow notifications, the app says so (English and Chinese)."""
    from playwright.sync_api import expect

    server, wired, service = real_push
    endpoint, gcm = gcm_chromium
    problems: list[str] = []
    with connected(endpoint) as launched:
        context = launched.contexts[0]  # the profile's own context: it has the Push API
        others = TestBrowser(launched)
        try:
            context.grant_permissions(["notifications"], origin=server)
            app = context.new_page()
            app.set_viewport_size(PHONE_VIEWPORT)
            app.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            activate(app, server, services, consent="Not now")
            expect(app.locator("#push-note")).to_be_visible()
            app.get_by_role("button", name="Turn on notifications").click()
            expect(app.get_by_role("heading", level=1)).to_have_text("Notifications")
            app.get_by_role("button", name="Allow notifications").click()
            expect(app.locator("#push-on")).to_be_visible()
            expect(app.locator("#push-on")).to_have_text("Notifications are on.")
            expect(app.locator("#push-note")).to_be_hidden()
            shot(app, "key-app-push-on-en")

            # the browser's own subscription (its keys, the GCM fake's token), registered
            # for the server's VAPID key, is what the server keeps
            browser_side = app.evaluate(SUBSCRIPTION)
            assert browser_side["endpoint"].startswith("https://")
            assert browser_side["endpoint"].endswith("/" + gcm.token)
            assert gcm.checkins >= 1
            key = cast(Any, wired.mobile).providers["webpush"].application_server_key
            assert any(r.get("sender") == key for r in gcm.registrations)
            app_id = app_record(app)["appId"]
            with wired.uow() as uow:
                row = uow.mobile_keys.app(app_id)
            assert row is not None and row.push_provider == "webpush"
            assert json.loads(row.push_target or "") == {
                "endpoint": browser_side["endpoint"],
                "keys": browser_side["keys"],
            }
            assert "mobile_key.push_set" in audit_actions(wired)

            # a login: its wake-up is encrypted for this subscription and VAPID-signed
            login = httpx.post(
                server + "/api/v1/logins",
                json={"username": "alice", "password": PASSWORD, "platform": "portal"},
            )
            assert login.status_code == 201
            push.deliver_wakeups(wired)
            assert service.refused == []
            [delivered] = service.received
            assert delivered["token"] == gcm.token

            app.get_by_role("button", name="Turn off notifications").click()
            expect(app.locator("#push-note")).to_be_visible()
            expect(app.get_by_role("button", name="Turn on notifications")).to_be_visible()
            with wired.uow() as uow:
                row = uow.mobile_keys.app(app_id)
            assert row is not None and row.push_target is None and row.push_provider is None
            assert app.evaluate(SUBSCRIPTION) is None
            app.close()

            # a browser that does not allow notifications: the app says so
            _, other = phone(others, "en-US", problems)
            activate(other, server, services, "bob", consent="Not now", sms_to=BOB_PHONE)
            other.get_by_role("button", name="Turn on notifications").click()
            other.get_by_role("button", name="Allow notifications").click()
            expect(other.locator("#message")).to_have_text(
                "Notifications are not allowed for this app. Allow them in the browser's"
                " settings, then try again."
            )
            expect(other.locator("#push-note")).to_be_visible()
            shot(other, "key-app-push-denied-en")
            other.get_by_role("button", name="中文").click()
            other.get_by_role("button", name="开启通知").click()
            expect(other.get_by_role("heading", level=1)).to_have_text("通知")
            shot(other, "key-app-consent-zh-CN")
            other.get_by_role("button", name="允许通知").click()
            expect(other.locator("#message")).to_have_text(
                "本应用未获准发送通知。请在浏览器设置中允许通知，然后重试。"
            )
            shot(other, "key-app-push-denied-zh-CN")
        finally:
            others.close()
    assert problems == []


def write_y4m(path: Path, png: bytes | None) -> None:
    """A camera's frames (YUV4MPEG2, 4:2:0): ``png`` (a screenshot) in the middle of a white
    640×480 picture, in gray, scaled up by whole pixels; a white picture when ``None``."""
    from PIL import Image

    width, height = CAMERA_SIZE
    picture = Image.new("L", CAMERA_SIZE, 255)
    if png is not None:
        code = Image.open(io.BytesIO(png)).convert("L")
        times = max(1, min(width, height) * 9 // 10 // max(code.size))
        code = code.resize((code.width * times, code.height * times), Image.Resampling.NEAREST)
        picture.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2) * 2  # U and V planes: no colour
    frame = b"FRAME\n" + picture.tobytes() + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 2)


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A chromium of this module's own (the shared one has no camera): its camera plays
    a Y4M file, which the test writes before the app opens the camera."""
    feed = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(feed, None)
    args = [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={feed}"]
    with chromium(args) as endpoint:
        yield endpoint, feed


def test_R_KEY_1_the_app_activates_by_scanning_the_portal_qr_code_or_the_typed_code(
    live: tuple[str, httpx.Client], camera: tuple[str, Path], services: Services
) -> None:
    """The camera refused: the app says so and shows the typed code's screen. The camera
    granted, filming the portal's QR code as the portal draws it: the app reads it, turns
    the camera off and goes on as with the typed code; the key then approves a login."""
    from playwright.sync_api import expect

    server, _ = live
    endpoint, feed = camera
    problems: list[str] = []
    with connected(endpoint) as launched:
        browser = TestBrowser(launched)
        try:
            portal = open_page(browser, "en-US", problems)
            log_in(portal, server, "alice", device_answer("sms", services))
            portal.goto(server + "/portal/settings/mobile-key")
            portal.get_by_role("button", name="Activate the Mobile Key by QR code").click()
            link = portal.locator("#activation-link").inner_text().strip()
            assert link.startswith("securelogin-key://activate?server=")
            qr_png = portal.locator("figure.qr-code svg").screenshot()  # what a camera sees

            # refused: the browser's setting for the camera says no
            refused, app = phone(browser, "en-US", problems)
            cdp = refused.new_cdp_session(app)
            cdp.send(
                "Browser.setPermission",
                {
                    "permission": {"name": "camera"},
                    "setting": "denied",
                    "origin": server,
                    "browserContextId": cdp.send("Target.getTargetInfo")["targetInfo"][
                        "browserContextId"
                    ],
                },
            )
            app.goto(server + "/key/")
            app.get_by_role("button", name="Scan the portal's QR code").click()
            expect(app.locator("#message")).to_have_text(
                "The camera is not allowed for this app. Type the code shown under the QR"
                " code, or allow the camera in the browser's settings."
            )
            expect(on_screen(app).get_by_label("Activation link or code")).to_be_visible()
            shot(app, "key-app-camera-refused-en")
            app.get_by_role("button", name="中文").click()
            app.get_by_role("button", name="改为扫描二维码").click()
            expect(app.locator("#message")).to_have_text(
                "本应用未获准使用摄像头。请输入二维码下方显示的代码，或在浏览器设置中允许使用摄像头。"
            )
            expect(on_screen(app).get_by_label("激活链接或代码")).to_be_visible()
            shot(app, "key-app-camera-refused-zh-CN")
            refused.close()

            # granted: the camera first films a white page (nothing to read) …
            granted, app = phone(browser, "en-US", problems)
            granted.grant_permissions(["camera"], origin=server)
            app.goto(server + "/key/")
            app.get_by_role("button", name="Scan the portal's QR code").click()
            expect(app.get_by_role("heading", level=1)).to_have_text("Scan the QR code")
            app.wait_for_function("() => document.getElementById('scan-video').videoWidth > 0")
            shot(app, "key-app-scan-en")
            app.get_by_role("button", name="Cancel").click()
            assert app.evaluate("document.getElementById('scan-video').srcObject") is None
            # … then the portal's QR code
            write_y4m(feed, qr_png)
            app.get_by_role("button", name="Scan the portal's QR code").click()
            expect(app.get_by_role("heading", level=1)).to_have_text("Finish the activation")
            expect(app.locator("#fin-code")).to_be_hidden()  # the portal session stood for it
            assert app.evaluate("document.getElementById('scan-video').srcObject") is None
            app.locator("#fin-pin").fill(APP_PIN)
            app.locator("#fin-pin2").fill(APP_PIN)
            app.locator("#fin-recovery").fill(RECOVERY_PIN)
            app.locator("#finish-form button[type=submit]").click()
            expect(app.locator("#users li")).to_have_text(["alice"])

            # the key is alice's: a login on the portal is approved on it
            portal.context.clear_cookies()
            enter_password(portal, server, "alice", LABELS)
            number = portal.locator("#push-number").inner_text().strip()
            card = app.locator("article.request")
            expect(card.locator("h2")).to_have_text("Login by alice")
            card.get_by_role("button", name=number, exact=True).click()
            expect(portal).to_have_url(server + "/portal", timeout=10_000)
            granted.close()
        finally:
            browser.close()
    assert problems == []
