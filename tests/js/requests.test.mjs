// What the key app says a push asks for (src/securelogin/entrypoints/keyapp/static/i18n.js):
// every purpose the server sends (service/ceremony/outcomes.py Purpose) names itself in both
// languages, and one the app does not know is never shown as a login (R-KEY-4).
import assert from "node:assert/strict";
import { test } from "node:test";

// setLanguage writes the page's lang and its data-i18n texts: a page without elements here
globalThis.document = { documentElement: {}, querySelectorAll: () => [], title: "" };

const { describePush, pickHint, setLanguage } = await import(
  "../../src/securelogin/entrypoints/keyapp/static/i18n.js"
);

const push = (purpose, extra = {}) => ({ purpose, who: "alice", username: "alice", ...extra });

test("R-KEY-4 each purpose is described as itself, in English", () => {
  setLanguage("en");
  assert.equal(describePush(push("login")), "Login by alice");
  assert.equal(
    describePush(push("withdrawal", { amount: "250.00", destination: "Chase ****1234" })),
    "Withdrawal of USD 250.00 to Chase ****1234 by alice",
  );
  assert.equal(describePush(push("share")), "Sharing alice's security device with another username");
  assert.equal(describePush(push("settings")), "Change of security settings by alice");
  assert.equal(describePush(push("something_new")), "A request by alice");
  assert.equal(pickHint(push("login")), "Tap the number shown on the login screen");
  assert.equal(pickHint(push("withdrawal")), "Tap the number shown on the withdrawal screen");
  assert.equal(pickHint(push("share")), "Tap the number shown on the screen that asked for this");
});

test("R-KEY-4 each purpose is described as itself, in Simplified Chinese", () => {
  setLanguage("zh-CN");
  const said = ["login", "withdrawal", "share", "settings", "something_new"].map((p) =>
    describePush(push(p, { amount: "1.00", destination: "X" })),
  );
  assert.equal(new Set(said).size, said.length); // five different texts
  assert.equal(said[2], "与另一用户名共享 alice 的安全设备");
  assert.ok(said.every((text) => text.includes("alice") && !/Login|Withdrawal|request/.test(text)));
  assert.equal(pickHint(push("withdrawal")), "请点击取款页面上显示的数字");
  setLanguage("en");
});
