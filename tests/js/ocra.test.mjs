// The key app's OCRA (src/securelogin/entrypoints/keyapp/static/ocra.js) against every OCRA
// vector of tests/data/vectors.json, under Node's built-in test runner:
//   node --test tests/js/
// tests/unit/test_key_app_js.py runs it in `make test`.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { importOcraKey, hexToBytes, ocra, OcraInputError } from "../../src/securelogin/entrypoints/keyapp/static/ocra.js";

globalThis.crypto ??= webcrypto; // Node 18 has WebCrypto, but not as a global

const vectors = JSON.parse(readFileSync(new URL("../data/vectors.json", import.meta.url)));
const ocraVectors = vectors.vectors.filter((v) => v.type === "OCRA");

function inputsOf(v) {
  const i = v.inputs;
  return {
    question: i.question,
    counter: i.counter,
    pin: i.pin,
    timestamp: i.timestamp_hex === undefined ? undefined : BigInt(`0x${i.timestamp_hex}`),
    mutual: "role" in v,
  };
}

test("there are OCRA vectors to check", () => {
  assert.ok(ocraVectors.length >= 70, `only ${ocraVectors.length} OCRA vectors`);
});

for (const v of ocraVectors) {
  test(`R-KEY-5 OCRA vector ${v.id}`, async () => {
    const key = await importOcraKey(hexToBytes(v.key_hex), v.suite);
    assert.equal(key.extractable, false);
    assert.equal(await ocra(v.suite, key, inputsOf(v)), v.expected);
  });
}

test("a wrong key gives another response", async () => {
  const v = ocraVectors[0];
  const key = await importOcraKey(hexToBytes(`00${v.key_hex.slice(2)}`), v.suite);
  assert.notEqual(await ocra(v.suite, key, inputsOf(v)), v.expected);
});

test("malformed suites and questions are refused", async () => {
  const suite = "OCRA-1:HOTP-SHA256-8:QN06";
  const key = await importOcraKey(new Uint8Array(32).fill(1), suite);
  await assert.rejects(ocra(suite, key, { question: "12a456" }), OcraInputError);
  await assert.rejects(ocra(suite, key, { question: "1234567" }), OcraInputError);
  await assert.rejects(ocra(suite, key, { question: "123456", counter: 1 }), OcraInputError);
  await assert.rejects(importOcraKey(new Uint8Array(32), "OCRA-2:HOTP-SHA1-6:QN08"), OcraInputError);
  await assert.rejects(importOcraKey(new Uint8Array(0), suite), OcraInputError);
  assert.match(await ocra(suite, key, { question: "123456" }), /^\d{8}$/);
});
