// The key app's wire format (src/securelogin/entrypoints/keyapp/static/wire.js): canonical
// JSON byte for byte as Python's json.dumps(sort_keys=True, separators=(",", ":"),
// ensure_ascii=False) writes it (tests/js/canonical_cases.json, checked against Python by
// tests/unit/test_key_app_js.py), base64url, and the DER <-> r||s signature conversions.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  b64url,
  canonicalJson,
  derToRaw,
  newKeyPair,
  rawToDer,
  sign,
  unb64url,
  verifyPush,
} from "../../src/securelogin/entrypoints/keyapp/static/wire.js";

globalThis.crypto ??= webcrypto; // Node 18 has WebCrypto, but not as a global

const cases = JSON.parse(readFileSync(new URL("./canonical_cases.json", import.meta.url)));

for (const [i, c] of cases.entries()) {
  test(`R-KEY-4 canonical JSON case ${i} is Python's`, () => {
    assert.equal(canonicalJson(c.value), c.canonical);
  });
}

test("base64url round trip without padding", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    const text = b64url(bytes);
    assert.doesNotMatch(text, /[+/=]/);
    assert.deepEqual(unb64url(text), bytes);
  }
});

test("DER and r||s convert both ways, high bits and leading zeros included", () => {
  const raws = [new Uint8Array(64).fill(0xff), new Uint8Array(64).fill(0x01), new Uint8Array(64)];
  raws[2][31] = 1;
  raws[2][63] = 0x80;
  for (const raw of raws) assert.deepEqual(derToRaw(rawToDer(raw)), raw);
});

test("R-KEY-4 a push signed by the server's key verifies, an altered one does not", async () => {
  const server = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const spki = b64url(await crypto.subtle.exportKey("spki", server.publicKey));
  const push = { push_id: "ps_1", who: "alice", choices: ["17", "42", "88"], amount: null };
  const signed = { ...push, signature: await sign(server.privateKey, new TextEncoder().encode(canonicalJson(push))) };
  assert.equal(await verifyPush(signed, spki), true);
  assert.equal(await verifyPush({ ...signed, who: "mallory" }, spki), false);
  assert.equal(await verifyPush({ ...push }, spki), false);
  const other = await newKeyPair();
  assert.equal(await verifyPush(signed, other.publicKey), false);
  assert.equal(other.privateKey.extractable, false);
});
