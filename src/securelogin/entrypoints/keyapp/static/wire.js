// The wire format of docs/mobile-key-protocol.md, as the terminal key speaks it
// (src/securelogin_key/wire.py): canonical JSON, base64url, DER ECDSA P-256 signatures,
// signed requests (X-SL-App, X-SL-Time, X-SL-Signature) and signed push answers.

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const SIGN = { name: "ECDSA", hash: "SHA-256" };
const API = "/api/v1";

export function b64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function unb64url(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

/** What is signed: sorted keys, no spaces, UTF-8 (Python's json.dumps(sort_keys=True)). */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const utf8 = (text) => new TextEncoder().encode(text);

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// WebCrypto signs ECDSA as r || s (IEEE P1363); the protocol carries DER.
function derInteger(bytes) {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = bytes.slice(i);
  if (body[0] & 0x80) body = Uint8Array.of(0, ...body);
  return Uint8Array.of(0x02, body.length, ...body);
}

export function rawToDer(raw) {
  const bytes = new Uint8Array(raw);
  const r = derInteger(bytes.slice(0, 32));
  const s = derInteger(bytes.slice(32));
  return Uint8Array.of(0x30, r.length + s.length, ...r, ...s);
}

export function derToRaw(der) {
  const out = new Uint8Array(64);
  if (der[0] !== 0x30) throw new Error("not a DER signature");
  let at = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  for (const slot of [0, 32]) {
    if (der[at] !== 0x02) throw new Error("not a DER signature");
    const length = der[at + 1];
    let value = der.slice(at + 2, at + 2 + length);
    while (value.length > 32 && value[0] === 0) value = value.slice(1);
    if (value.length > 32) throw new Error("not a P-256 signature");
    out.set(value, slot + 32 - value.length);
    at += 2 + length;
  }
  return out;
}

/** A new app key pair. Extractable only to be sealed into the vault at once (vault.js);
 * the key the app then signs with is unwrapped non-extractable. */
export async function newKeyPair(extractable = false) {
  const pair = await crypto.subtle.generateKey(ECDSA, extractable, ["sign", "verify"]);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  return { privateKey: pair.privateKey, publicKey: b64url(spki) };
}

export async function sign(privateKey, bytes) {
  return b64url(rawToDer(new Uint8Array(await crypto.subtle.sign(SIGN, privateKey, bytes))));
}

/** True when `push.signature` is the server's ECDSA over the push without it. */
export async function verifyPush(push, serverPublicKey) {
  if (typeof push.signature !== "string") return false;
  try {
    const key = await crypto.subtle.importKey("spki", unb64url(serverPublicKey), ECDSA, false, ["verify"]);
    const unsigned = Object.fromEntries(Object.entries(push).filter(([k]) => k !== "signature"));
    return await crypto.subtle.verify(SIGN, key, derToRaw(unb64url(push.signature)), utf8(canonicalJson(unsigned)));
  } catch {
    return false;
  }
}

/** The body of POST /key/pushes/{id}/answer, signed by the app's key. */
export async function pushAnswer(privateKey, push, { decision, number, notMe }) {
  const signed = {
    push_id: push.push_id,
    request: await sha256Hex(utf8(canonicalJson(push))),
    decision,
    number,
    not_me: notMe,
  };
  return { decision, number, not_me: notMe, signature: await sign(privateKey, utf8(canonicalJson(signed))) };
}

export class ApiError extends Error {
  constructor(code, status, message) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

/** The server's API under the same prefix as the app (/key/ → /api/v1). */
export class KeyApi {
  constructor(prefix, signer = null) {
    this.prefix = prefix;
    this.signer = signer; // {appId, privateKey}
  }

  async call(method, path, body = null, { signed = false, signal } = {}) {
    const fullPath = `${this.prefix}${API}${path}`;
    const content = body === null ? "" : canonicalJson(body);
    const headers = body === null ? {} : { "Content-Type": "application/json" };
    if (signed) {
      const stamp = String(Math.floor(Date.now() / 1000));
      const digest = await sha256Hex(utf8(content));
      const message = `${method}\n${fullPath}\n${stamp}\n${digest}`;
      headers["X-SL-App"] = this.signer.appId;
      headers["X-SL-Time"] = stamp;
      headers["X-SL-Signature"] = await sign(this.signer.privateKey, utf8(message));
    }
    let response;
    try {
      response = await fetch(fullPath, { method, headers, body: content || undefined, signal, cache: "no-store" });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError("unreachable", 0, String(error));
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok && response.status === 204) return {};
    if (response.ok && data && typeof data === "object") return data;
    const code = data && typeof data.code === "string" ? data.code : `http_${response.status}`;
    throw new ApiError(code, response.status, data && (data.detail || data.title));
  }
}
