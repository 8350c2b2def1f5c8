// OCRA (RFC 6287) with WebCrypto HMAC: the key is a non-extractable CryptoKey.
// The same byte conventions as securelogin.domain.otp and tests/data/vectors.json:
// HMAC(K, suite | 0x00 | [C] | Q (128 bytes) | [P] | [S] | [T]), then HOTP truncation.
// Runs in the browser and under Node (globalThis.crypto.subtle).

const HASHES = { 1: "SHA-1", 256: "SHA-256", 512: "SHA-512" };
const HASH_BYTES = { "SHA-1": 20, "SHA-256": 32, "SHA-512": 64 };
const TIME_UNITS = { S: [1, 59], M: [60, 59], H: [3600, 48] };
const QUESTION_CHARS = { N: /^[0-9]+$/, A: /^[\x20-\x7e]+$/, H: /^[0-9A-Fa-f]+$/ };
const QUESTION_BYTES = 128;

export class OcraInputError extends Error {}

function subtle() {
  return globalThis.crypto.subtle;
}

/** Parse OCRA-1:HOTP-SHAx-d:[C-]QFxx[-PH][-Snnn][-TG] (RFC 6287 §6). */
export function parseSuite(text) {
  const parts = String(text).split(":");
  if (parts.length !== 3 || parts[0] !== "OCRA-1") {
    throw new OcraInputError(`malformed OCRA suite ${text}`);
  }
  const crypto = /^HOTP-SHA(1|256|512)-([0-9]{1,2})$/.exec(parts[1]);
  if (!crypto) throw new OcraInputError(`malformed OCRA crypto function in ${text}`);
  const digits = Number(crypto[2]);
  if (digits !== 0 && (digits < 4 || digits > 10)) {
    throw new OcraInputError(`OCRA digits must be 0 or 4..10 in ${text}`);
  }
  let fields = parts[2].split("-");
  const counter = fields[0] === "C";
  if (counter) fields = fields.slice(1);
  const question = /^Q([ANH])([0-9]{2})$/.exec(fields[0] || "");
  if (!question || Number(question[2]) < 4 || Number(question[2]) > 64) {
    throw new OcraInputError(`OCRA suite ${text} needs one question QFxx with xx in 04..64`);
  }
  const suite = {
    text,
    hash: HASHES[crypto[1]],
    digits,
    counter,
    questionFormat: question[1],
    questionLength: Number(question[2]),
    pinHash: null,
    sessionLength: null,
    timeStep: null,
  };
  let order = "PST";
  for (const field of fields.slice(1)) {
    const kind = field.slice(0, 1);
    if (!kind || !order.includes(kind)) {
      throw new OcraInputError(`unexpected or misplaced data input ${field} in ${text}`);
    }
    order = order.slice(order.indexOf(kind) + 1);
    let m;
    if (kind === "P" && (m = /^PSHA(1|256|512)$/.exec(field))) {
      suite.pinHash = HASHES[m[1]];
    } else if (kind === "S" && (m = /^S([0-9]{3})$/.exec(field)) && Number(m[1]) >= 1 && Number(m[1]) <= 512) {
      suite.sessionLength = Number(m[1]);
    } else if (kind === "T" && (m = /^T([0-9]{1,2})([SMH])$/.exec(field))) {
      const [seconds, most] = TIME_UNITS[m[2]];
      if (Number(m[1]) < 1 || Number(m[1]) > most) {
        throw new OcraInputError(`time step ${field} is out of range in ${text}`);
      }
      suite.timeStep = Number(m[1]) * seconds;
    } else {
      throw new OcraInputError(`malformed data input ${field} in ${text}`);
    }
  }
  return suite;
}

function hexToBytes(hex) {
  if (hex.length % 2) hex += "0";
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function uint64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function questionBytes(suite, question, mutual) {
  const longest = suite.questionLength * (mutual ? 2 : 1);
  if (!QUESTION_CHARS[suite.questionFormat].test(question) || question.length > longest) {
    throw new OcraInputError(`question does not match Q${suite.questionFormat}${suite.questionLength}`);
  }
  const out = new Uint8Array(QUESTION_BYTES);
  if (suite.questionFormat === "A") {
    out.set(new TextEncoder().encode(question));
    return out;
  }
  const nibbles = suite.questionFormat === "N" ? BigInt(question).toString(16).toUpperCase() : question;
  out.set(hexToBytes(nibbles));
  return out;
}

function present(suite, name, wanted, given) {
  if (wanted && !given) throw new OcraInputError(`OCRA suite ${suite.text} needs a ${name}`);
  if (given && !wanted) throw new OcraInputError(`OCRA suite ${suite.text} takes no ${name}`);
}

/** The P input: the PIN hashed with the suite's PH algorithm. */
export async function pinHash(suite, pin) {
  if (!suite.pinHash) throw new OcraInputError(`OCRA suite ${suite.text} takes no PIN`);
  return new Uint8Array(await subtle().digest(suite.pinHash, new TextEncoder().encode(pin)));
}

/** The HMAC message suite | 0x00 | [C] | Q | [P] | [S] | [T] (RFC 6287 §5.2). */
export async function dataInput(suite, { question, counter, pin, session, timestamp, mutual = false }) {
  present(suite, "counter", suite.counter, counter !== undefined && counter !== null);
  present(suite, "PIN", suite.pinHash !== null, pin !== undefined && pin !== null);
  present(suite, "session information", suite.sessionLength !== null, session !== undefined && session !== null);
  present(suite, "timestamp", suite.timeStep !== null, timestamp !== undefined && timestamp !== null);
  if (session && session.length !== suite.sessionLength) {
    throw new OcraInputError(`OCRA suite ${suite.text} needs ${suite.sessionLength} session bytes`);
  }
  const parts = [new TextEncoder().encode(suite.text), new Uint8Array([0])];
  if (suite.counter) parts.push(uint64(counter));
  parts.push(questionBytes(suite, String(question), mutual));
  if (suite.pinHash) parts.push(await pinHash(suite, pin));
  if (session) parts.push(session);
  if (suite.timeStep) parts.push(uint64(timestamp));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** RFC 4226 §5.3 dynamic truncation; digits 0 is OCRA's "no truncation" (hex). */
export function truncate(mac, digits) {
  if (digits === 0) return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  const offset = mac[mac.length - 1] & 0x0f;
  const code = new DataView(mac.buffer, mac.byteOffset).getUint32(offset) & 0x7fffffff;
  return String(code % 10 ** digits).padStart(digits, "0");
}

/** The OCRA secret as a non-extractable HMAC key with the suite's hash. */
export async function importOcraKey(secret, suiteText) {
  if (!secret || secret.length === 0) throw new OcraInputError("the OCRA key is empty");
  const suite = parseSuite(suiteText);
  return subtle().importKey("raw", secret, { name: "HMAC", hash: suite.hash }, false, ["sign"]);
}

/** The OCRA response to `inputs.question`, with `key` from importOcraKey. */
export async function ocra(suiteText, key, inputs) {
  const suite = parseSuite(suiteText);
  const message = await dataInput(suite, inputs);
  const mac = new Uint8Array(await subtle().sign("HMAC", key, message));
  return truncate(mac, suite.digits);
}

export { HASH_BYTES, hexToBytes };
