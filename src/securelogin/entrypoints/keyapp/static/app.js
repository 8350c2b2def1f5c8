// The mobile key web app: activation (R-KEY-1/2), several usernames (R-KEY-3), push
// approval with number matching (R-KEY-4), the offline challenge (R-KEY-5).
// It speaks docs/mobile-key-protocol.md exactly as the terminal key does.
import * as bio from "./bio.js";
import { describePush, detect, language, pickHint, setLanguage, t } from "./i18n.js";
import { ocra, parseSuite } from "./ocra.js";
import { CameraError, scanQr } from "./scan.js";
import { getApp, listUsers, putApp, putUser } from "./store.js";
import * as vault from "./vault.js";
import { ApiError, KeyApi, newKeyPair, pushAnswer, unb64url, verifyPush } from "./wire.js";

const LANG_KEY = "securelogin-key-lang";
const PULL_WAIT = 20; // seconds the pull channel may hold a request (≤ 60)
const BUSY_PAUSE = 1500; // ms between pulls that answered at once with nothing new
const RETRY_PAUSE = 3000; // ms before pulling again after a failure
const PREFIX = location.pathname.slice(0, location.pathname.lastIndexOf("/key/"));

const $ = (id) => document.getElementById(id);
const state = {
  app: null,
  users: [],
  states: {}, // username -> the server's state of its key ("active", "replaced", …)
  unlocked: false,
  session: null, // the opened vault: {dk, privateKey, offline}; privateKey null when offline
  activation: null,
  pushKey: null, // the server's VAPID key while notifications can be turned on
  shown: [],
  answered: new Set(),
  said: null, // the message on screen as {key, params}: re-rendered when the language changes
  outcome: null, // the last answered push as {result, push}, shown under the requests
};
let pollToken = 0;
let pollAbort = null;
let scanAbort = null;

function api() {
  const signer =
    state.app && state.session && state.session.privateKey
      ? { appId: state.app.appId, privateKey: state.session.privateKey }
      : null;
  return new KeyApi(PREFIX, signer);
}

// -- screens and messages -------------------------------------------------------------
function show(name) {
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  $("app").dataset.screen = name;
  say(null);
  if (name !== "scan") stopScan(); // the camera is on only on the scan screen
  if (name === "home") startPolling();
  else stopPolling();
  const first = $(`screen-${name}`).querySelector("input:not([type=radio]), select");
  if (first) first.focus();
}

function say(key, params) {
  state.said = key ? { key, params } : null;
  renderSaid();
}

function renderSaid() {
  const box = $("message");
  box.hidden = !state.said;
  box.textContent = state.said ? t(state.said.key, state.said.params) : "";
}

function sayError(error) {
  if (!(error instanceof ApiError)) {
    console.warn(error);
    say("error.other", { code: error && error.name });
    return;
  }
  const key = `error.${error.code}`;
  if (t(key) !== key) say(key);
  else say("error.other", { code: error.code });
}

function busy(form, work) {
  return async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await work(new FormData(form));
    } catch (error) {
      sayError(error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
}

/** A button's work, with the button disabled meanwhile and errors said. */
async function tap(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    sayError(error);
  } finally {
    button.disabled = false;
  }
}

// -- activation (R-KEY-1, R-KEY-2) ------------------------------------------------------
async function startActivation(data) {
  const username = String(data.get("username")).trim().toLowerCase();
  const started = await api().call("POST", "/key/activations", { username, password: String(data.get("password")) });
  $("act-password").value = "";
  const phones = started.phones || [];
  if (!phones.length) return say("error.no_phone");
  state.activation = { id: started.activation_id };
  const box = $("phone-choices");
  box.replaceChildren();
  phones.forEach((phone, i) => {
    const label = document.createElement("label");
    label.className = "choice";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "phone_id";
    radio.value = phone.phone_id;
    radio.checked = phone.preselected || (i === 0 && !phones.some((p) => p.preselected));
    label.append(radio, ` ${phone.masked}`);
    box.append(label);
  });
  show("phone");
}

async function sendCode(data) {
  const id = state.activation.id;
  const sent = await api().call("POST", `/key/activations/${id}/code`, { phone_id: String(data.get("phone_id")) });
  showFinish(true);
  $("code-sent").textContent = t("finish.sent", { to: sent.sent_to });
}

function showFinish(withCode) {
  $("code-row").hidden = !withCode;
  $("code-sent").hidden = !withCode;
  show("finish");
}

/** The portal's QR code (securelogin-key://activate?server=URL&session=ID), typed or
 * pasted, or only its session id: it stands for the password and the SMS code. */
function parseLink(text) {
  const value = text.trim();
  if (/^[A-Za-z0-9_-]{8,200}$/.test(value)) return { session: value };
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const session = url.searchParams.get("session");
  if (url.protocol !== "securelogin-key:" || !session || !url.searchParams.get("server")) return null;
  if (!/^[A-Za-z0-9_-]{8,200}$/.test(session)) return null;
  return { session, server: url.searchParams.get("server").replace(/\/+$/, "") };
}

async function startLink(data) {
  const link = parseLink(String(data.get("link")));
  if (!link) return say("error.link_format");
  useLink(link);
}

/** The portal's code, typed or scanned: on to the app PIN and the recovery PIN. */
function useLink(link) {
  if (link.server && link.server !== `${location.origin}${PREFIX}`) {
    if ($("app").dataset.screen !== "link") show("link");
    return say("error.link_server");
  }
  state.activation = { id: link.session, viaLink: true };
  $("link-form").reset();
  showFinish(false);
}

/** The portal's QR code through the rear camera; without a camera (refused, absent) the
 * typed code is the way, and the screen for it says why. */
async function startScan() {
  stopScan();
  show("scan");
  const controller = new AbortController();
  scanAbort = controller;
  let text;
  try {
    text = await scanQr($("scan-video"), {
      signal: controller.signal,
      accept: (read) => parseLink(read) !== null,
      other: () => say("error.link_format"),
    });
  } catch (error) {
    if (controller.signal.aborted) return; // cancelled, or the person went elsewhere
    scanAbort = null;
    show("link");
    if (error instanceof CameraError) return say(`error.${error.code}`);
    return sayError(error);
  }
  scanAbort = null;
  useLink(parseLink(text));
}

function stopScan() {
  if (scanAbort) scanAbort.abort();
  scanAbort = null;
}

function checkAppPin(pin, again) {
  if (!/^[0-9]{4,6}$/.test(pin)) return "error.pin_format";
  if (pin !== again) return "error.pin_again";
  return null;
}

const recoveryOk = (pin) => /^[\x20-\x7e]{4,6}$/.test(pin);

async function userOf(answer, session) {
  const suite = answer.ocra.suite;
  parseSuite(suite);
  return {
    username: answer.username,
    deviceId: answer.device_id,
    suite,
    ocra: await vault.sealOcra(session, unb64url(answer.ocra.secret)),
  };
}

async function finishActivation(data) {
  const pin = String(data.get("pin"));
  const problem = checkAppPin(pin, String(data.get("pin2")));
  if (problem) return say(problem);
  const recovery = String(data.get("recovery"));
  if (!recoveryOk(recovery)) return say("error.recovery_format");
  const body = { recovery_pin: recovery };
  if (!state.activation.viaLink) body.code = String(data.get("code")).trim();
  state.activation = { ...state.activation, body, pin };
  const serverKey = await webPushKey();
  if (serverKey && Notification.permission !== "denied") {
    state.activation.serverKey = serverKey;
    return show("consent"); // the consent step: explained first, then the browser asks
  }
  await completeActivation(null);
}

/** The server's VAPID key when it offers Web Push and this browser can subscribe. */
async function webPushKey() {
  if (!("PushManager" in window) || !("Notification" in window) || !("serviceWorker" in navigator)) return null;
  try {
    return (await api().call("GET", "/key/webpush")).application_server_key;
  } catch {
    return null; // unreachable: the pull channel still works
  }
}

const within = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);

/** Ask the browser (after the consent screen) and subscribe: {push} (the activation's
 * and PUT …/push's body), or {problem} when the browser says no or cannot. */
async function subscribe(serverKey) {
  try {
    if ((await Notification.requestPermission()) !== "granted") return { problem: "push_denied" };
    const registration = await within(navigator.serviceWorker.ready, 10000);
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: unb64url(serverKey),
    });
    return { push: { provider: "webpush", subscription: subscription.toJSON() } };
  } catch (error) {
    console.warn("Web Push subscription failed:", error && error.name);
    return { problem: "push_failed" };
  }
}

/** The consent screen's answer: during an activation, or later from the home screen. */
async function consent(allow) {
  const buttons = document.querySelectorAll("#screen-consent button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (state.activation) {
      const got = allow ? await subscribe(state.activation.serverKey) : {};
      await completeActivation(got.push || null);
    } else {
      await turnOnPush(allow);
    }
  } catch (error) {
    sayError(error);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

/** Notifications turned on after the activation: the browser's subscription goes to the
 * server with the signed PUT …/push; the browser refusing is said on the home screen. */
async function turnOnPush(allow) {
  const got = allow ? await subscribe(state.pushKey) : {};
  if (got.push) {
    try {
      await api().call("PUT", `/key/apps/${state.app.appId}/push`, got.push, { signed: true });
    } catch (error) {
      show("home");
      throw error;
    }
    state.app = { ...state.app, push: true };
    await putApp(state.app);
  }
  show("home");
  await renderPush();
  if (got.problem) say(`error.${got.problem}`);
}

/** Notifications off: the server forgets the target (signed DELETE …/push), the browser
 * its subscription; requests still arrive over the pull channel while the app is open. */
async function turnOffPush() {
  await api().call("DELETE", `/key/apps/${state.app.appId}/push`, null, { signed: true });
  try {
    const registration = await within(navigator.serviceWorker.ready, 5000);
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();
  } catch (error) {
    console.warn("Web Push unsubscribe:", error && error.name);
  }
  state.app = { ...state.app, push: false };
  await putApp(state.app);
  await renderPush();
}

/** The home screen's notification line and buttons. */
async function renderPush() {
  const online = Boolean(state.session && state.session.privateKey);
  const on = Boolean(state.app.push);
  $("push-note").hidden = on;
  $("push-on").hidden = !on;
  $("disable-push").hidden = !on || !online;
  state.pushKey = online && !on ? await webPushKey() : null;
  $("enable-push").hidden = !state.pushKey;
}

async function completeActivation(push) {
  const { id, body, pin } = state.activation;
  const pair = await newKeyPair(true);
  const sealed = await vault.createVault(pin, pair.privateKey); // the server-assisted PIN
  const request = {
    ...body,
    public_key: pair.publicKey,
    pin_verifier: sealed.pinVerifier,
    server_share: sealed.serverShare,
    unlock_token: sealed.unlockToken,
  };
  if (push) request.push = push;
  let done;
  try {
    done = await api().call("POST", `/key/activations/${id}/complete`, request);
  } catch (error) {
    if ($("app").dataset.screen === "consent") show("finish");
    throw error;
  }
  const user = await userOf(done, sealed.session);
  await crypto.subtle.importKey("spki", unb64url(done.server_public_key), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const app = {
    appId: done.app_id,
    serverPublicKey: done.server_public_key,
    publicKey: pair.publicKey,
    push: Boolean(push),
    ...sealed.record,
  };
  await putApp(app);
  await putUser(user);
  $("finish-form").reset();
  state.activation = null;
  state.app = app;
  await opened(sealed.session);
}

// -- several usernames (R-KEY-3) --------------------------------------------------------
async function addUser(data) {
  const recovery = String(data.get("recovery"));
  if (!recoveryOk(recovery)) return say("error.recovery_format");
  const body = {
    username: String(data.get("username")).trim().toLowerCase(),
    password: String(data.get("password")),
    recovery_pin: recovery,
  };
  const added = await api().call("POST", `/key/apps/${state.app.appId}/users`, body, { signed: true });
  await putUser(await userOf(added, state.session));
  $("add-form").reset();
  state.users = await listUsers();
  show("home");
  renderUsers();
}

function renderUsers() {
  const list = $("users");
  list.replaceChildren(
    ...state.users.map((user) => {
      const item = document.createElement("li");
      const known = state.states[user.username];
      item.dataset.state = known || "unknown";
      item.textContent = known && known !== "active" ? t("user.moved", { username: user.username }) : user.username;
      return item;
    }),
  );
}

/** Each username's state on the server: a username moved to another phone shows so. */
async function refreshStates(signal) {
  const info = await api().call("GET", `/key/apps/${state.app.appId}`, null, { signed: true, signal });
  state.states = Object.fromEntries((info.users || []).map((u) => [u.username, u.state]));
  renderUsers();
}

// -- unlock -----------------------------------------------------------------------------
/** The server-assisted unlock: the PIN's proof buys the server share that opens the
 * vault; the server counts wrong PINs. With no network, the PIN opens the offline key
 * only (the Challenge screen, R-KEY-5), unchecked: a wrong PIN gives wrong responses. */
async function unlock(data) {
  const pin = String(data.get("pin"));
  const { proof, pinKey, offKey } = await vault.pinProof(state.app, pin);
  let answer;
  try {
    answer = await api().call("POST", `/key/apps/${state.app.appId}/unlock`, {
      unlock_token: state.app.unlockToken,
      proof,
    });
  } catch (error) {
    $("unlock-pin").value = "";
    if (error instanceof ApiError && error.code === "unreachable") {
      $("unlock-form").reset();
      return opened(await vault.openOffline(state.app, offKey));
    }
    if (error instanceof ApiError && error.code === "app_pin_wrong") return say("error.wrong_pin");
    throw error;
  }
  $("unlock-form").reset();
  await opened(await vault.openWithShare(state.app, pinKey, answer.server_share));
}

function lock() {
  state.unlocked = false;
  state.session = null;
  renderRequests([]);
  state.outcome = null;
  renderOutcome();
  showUnlock();
}

function showUnlock() {
  $("unlock-bio").hidden = !state.app.bio;
  show("unlock");
}

async function opened(session) {
  state.session = session;
  state.unlocked = true;
  state.users = await listUsers();
  show("home");
  renderUsers();
  renderBio();
  $("enable-bio").hidden = Boolean(state.app.bio) || !session.privateKey || !(await bio.available());
  if (!session.privateKey) setPollState("offline");
  await renderPush();
}

/** Biometric unlock on, and whether it also opens the app offline (PRF) or not. */
function renderBio() {
  const on = Boolean(state.app.bio);
  $("bio-state").hidden = !on;
  $("bio-offline").hidden = !on;
  $("bio-offline").dataset.prf = on && state.app.bio.prf ? "yes" : "no";
  $("bio-offline").textContent = on ? t(state.app.bio.prf ? "home.bio_offline" : "home.bio_pin_offline") : "";
}

/** The server's challenge, the platform's assertion (user verification), the server's
 * check — and only then the biometric share that opens the vault. */
async function unlockWithBiometrics() {
  const path = `/key/apps/${state.app.appId}/biometric`;
  let started;
  try {
    started = await api().call("POST", `${path}/challenge`, { unlock_token: state.app.unlockToken });
  } catch (error) {
    if (error instanceof ApiError && error.code === "unreachable") return unlockOffline();
    console.warn("biometric unlock:", error && (error.code || error.name));
    return say("error.bio_failed");
  }
  let share;
  try {
    const credential = await bio.get(started.options);
    const answer = await api().call("POST", `${path}/unlock`, {
      unlock_token: state.app.unlockToken,
      ceremony_id: started.ceremony_id,
      credential,
    });
    share = answer.biometric_share;
  } catch (error) {
    console.warn("biometric unlock:", error && (error.code || error.name));
    return say("error.bio_failed");
  }
  await opened(await vault.openWithBiometric(state.app, share));
}

/** No network: a local assertion's PRF output (the authenticator's secret for this
 * credential, user verification required) opens the offline key — the Challenge screen
 * only, no server. Without PRF the app PIN is the offline way. */
async function unlockOffline() {
  const prf = state.app.bio && state.app.bio.prf;
  if (!prf) return say("error.bio_offline_pin");
  let session;
  try {
    const output = await bio.prfOutput(state.app.bio, prf.salt);
    session = await vault.openOfflineWithPrf(state.app, output);
  } catch (error) {
    console.warn("biometric offline unlock:", error && error.name);
    return say("error.bio_failed");
  }
  await opened(session);
}

/** Registers a platform credential with the server and seals the vault's data key under
 * a new biometric share that the server keeps. */
async function enableBiometrics() {
  const path = `/key/apps/${state.app.appId}/biometric`;
  try {
    const started = await api().call("POST", `${path}/registrations`, null, { signed: true });
    const salt = vault.randomShare();
    const created = await bio.create(started.options, salt);
    const share = vault.randomShare();
    const sealed = await vault.wrapForBiometric(state.session, share);
    await api().call(
      "POST",
      `${path}/registrations/${started.ceremony_id}`,
      { credential: created.credential, biometric_share: share },
      { signed: true },
    );
    const record = { credentialId: created.credential.id, rpId: created.rpId };
    // PRF (hmac-secret): the offline key also wrapped under the authenticator's secret;
    // without it (or if it fails) biometrics work online and offline stays PIN-only
    try {
      const output = created.prf || (created.prfEnabled ? await bio.prfOutput(record, salt) : null);
      if (output) record.prf = { salt, ok: await vault.wrapOfflineForPrf(state.app, state.session, output) };
    } catch (error) {
      console.warn("biometric PRF:", error && error.name);
    }
    state.app = { ...state.app, bio: record, dk: { ...state.app.dk, bio: sealed } };
    await putApp(state.app);
  } catch (error) {
    console.warn("biometric registration:", error && (error.code || error.name));
    return say("error.bio_failed");
  }
  $("enable-bio").hidden = true;
  renderBio();
}

// -- push (R-KEY-4) ---------------------------------------------------------------------
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startPolling() {
  if (pollAbort || !state.unlocked || !state.session || !state.session.privateKey) return;
  pollAbort = new AbortController();
  pull(++pollToken, pollAbort.signal);
}

function stopPolling() {
  if (pollAbort) pollAbort.abort();
  pollAbort = null;
  pollToken++;
}

function setPollState(which) {
  const line = $("poll-state");
  line.dataset.state = which;
  line.textContent = t(which === "offline" ? "home.offline" : "home.waiting");
}

async function pull(token, signal) {
  setPollState(navigator.onLine ? "waiting" : "offline");
  let statesKnown = false;
  while (token === pollToken) {
    try {
      if (!statesKnown) {
        await refreshStates(signal);
        statesKnown = true;
      }
      const path = `/key/apps/${state.app.appId}/pushes?wait=${PULL_WAIT}`;
      const answer = await api().call("GET", path, null, { signed: true, signal });
      if (token !== pollToken) return;
      setPollState("waiting");
      const fresh = [];
      for (const push of answer.pushes || []) {
        // a push that fails the server's signature is never shown nor answered
        if (!state.answered.has(push.push_id) && (await verifyPush(push, state.app.serverPublicKey))) fresh.push(push);
      }
      renderRequests(fresh);
      if ((answer.pushes || []).length) await pause(BUSY_PAUSE);
    } catch (error) {
      if (error.name === "AbortError" || token !== pollToken) return;
      setPollState("offline");
      if (error instanceof ApiError && error.code === "key_signature_invalid") sayError(error);
      await pause(RETRY_PAUSE);
    }
  }
}

function renderRequests(pushes, force = false) {
  const ids = pushes.map((p) => p.push_id).join(",");
  if (!force && ids === state.shown.map((p) => p.push_id).join(",")) return;
  state.shown = pushes;
  $("requests").replaceChildren(...pushes.map(requestCard));
}

function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function requestCard(push) {
  const card = document.createElement("article");
  card.className = "request";
  card.dataset.pushId = push.push_id;
  const title = document.createElement("h2");
  title.textContent = describePush(push);
  const where = document.createElement("p");
  const at = new Date(push.created_at);
  where.textContent = t("request.where", {
    ip: (push.where && push.where.ip) || "?",
    platform: (push.where && push.where.platform) || "?",
    time: at.toLocaleTimeString(language(), { hour: "2-digit", minute: "2-digit" }),
  });
  const pick = document.createElement("p");
  pick.className = "pick";
  pick.textContent = pickHint(push);
  const numbers = document.createElement("div");
  numbers.className = "numbers";
  for (const number of push.choices) {
    numbers.append(button(number, "number", () => answer(card, push, "approve", number, false)));
  }
  const other = document.createElement("div");
  other.className = "deny-row";
  other.append(
    button(t("request.deny"), "deny", () => answer(card, push, "deny", null, false)),
    button(t("request.not_me"), "not-me", () => answer(card, push, "deny", null, true)),
  );
  card.append(title, where, pick, numbers, other);
  return card;
}

async function answer(card, push, decision, number, notMe) {
  card.querySelectorAll("button").forEach((b) => (b.disabled = true));
  let result;
  try {
    const body = await pushAnswer(state.session.privateKey, push, { decision, number, notMe });
    const done = await api().call("POST", `/key/pushes/${push.push_id}/answer`, body, { signed: true });
    result = done.status === "approved" ? "approved" : notMe ? "not_me" : "denied";
  } catch (error) {
    if (!(error instanceof ApiError) || !["number_mismatch", "push_closed"].includes(error.code)) {
      card.querySelectorAll("button").forEach((b) => (b.disabled = false));
      return sayError(error);
    }
    result = error.code === "number_mismatch" ? "mismatch" : "closed";
  }
  state.answered.add(push.push_id);
  renderRequests(state.shown.filter((p) => p.push_id !== push.push_id));
  state.outcome = { result, push };
  renderOutcome();
}

function renderOutcome() {
  const outcome = $("outcome");
  const shown = state.outcome;
  outcome.hidden = !shown;
  if (!shown) return;
  outcome.dataset.outcome = shown.result;
  outcome.textContent =
    shown.result === "closed" ? t("error.push_closed") : t(`outcome.${shown.result}`, { what: describePush(shown.push) });
}

// -- offline challenge (R-KEY-5) ----------------------------------------------------------
function openChallenge() {
  const select = $("challenge-user");
  const usable = state.users.filter((u) => [undefined, "active"].includes(state.states[u.username]));
  select.replaceChildren(
    ...usable.map((user) => {
      const option = document.createElement("option");
      option.value = user.username;
      option.textContent = user.username;
      return option;
    }),
  );
  $("challenge-user-row").hidden = usable.length < 2;
  $("challenge-result").hidden = true;
  $("challenge-form").reset();
  show("challenge");
}

async function respond(data) {
  const user = state.users.find((u) => u.username === String(data.get("user")));
  if (!user) return say("error.no_user");
  const challenge = String(data.get("challenge")).trim();
  const suite = parseSuite(user.suite);
  if (!/^[0-9]+$/.test(challenge) || challenge.length > suite.questionLength) {
    $("challenge-result").hidden = true;
    return say("error.challenge_format");
  }
  say(null);
  const key = await vault.ocraKey(state.session, user.ocra, suite.hash);
  $("response-code").textContent = await ocra(user.suite, key, { question: challenge });
  $("challenge-result").hidden = false;
}

// -- start --------------------------------------------------------------------------------
function switchLanguage() {
  const next = language() === "en" ? "zh-CN" : "en";
  localStorage.setItem(LANG_KEY, next);
  setLanguage(next);
  renderRequests(state.shown, true);
  renderSaid();
  renderOutcome();
  renderUsers();
  if (state.app && state.unlocked) renderBio();
  if ($("app").dataset.screen === "home") setPollState($("poll-state").dataset.state);
}

function wire() {
  $("lang-switch").addEventListener("click", switchLanguage);
  $("start-activation").addEventListener("click", () => show("activate"));
  $("start-link").addEventListener("click", () => show("link"));
  $("start-scan").addEventListener("click", startScan);
  $("link-scan").addEventListener("click", startScan);
  $("scan-type").addEventListener("click", () => show("link"));
  $("scan-cancel").addEventListener("click", () => show("welcome"));
  const forms = {
    "activate-form": startActivation,
    "link-form": startLink,
    "phone-form": sendCode,
    "finish-form": finishActivation,
    "unlock-form": unlock,
    "add-form": addUser,
    "challenge-form": respond,
  };
  for (const [id, work] of Object.entries(forms)) $(id).addEventListener("submit", busy($(id), work));
  $("open-challenge").addEventListener("click", openChallenge);
  $("open-add-user").addEventListener("click", () => show("add"));
  $("lock").addEventListener("click", lock);
  $("enable-bio").addEventListener("click", enableBiometrics);
  $("consent-allow").addEventListener("click", () => consent(true));
  $("consent-skip").addEventListener("click", () => consent(false));
  $("enable-push").addEventListener("click", () => show("consent"));
  $("disable-push").addEventListener("click", () => tap($("disable-push"), turnOffPush));
  $("unlock-bio").addEventListener("click", unlockWithBiometrics);
  for (const back of document.querySelectorAll("button.back")) back.addEventListener("click", () => show("home"));
  window.addEventListener("online", () => {
    if ($("app").dataset.screen === "home") setPollState("waiting");
  });
}

async function main() {
  setLanguage(detect(localStorage.getItem(LANG_KEY), navigator.languages));
  wire();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch((error) => console.warn(error));
  }
  const stored = (await getApp()) || null;
  state.app = stored && stored.vault === 2 ? stored : null; // an app of the first slice: activate again
  if (state.app) showUnlock();
  else show("welcome");
}

main();
