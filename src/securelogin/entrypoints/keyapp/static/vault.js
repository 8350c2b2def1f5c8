// The web app's vault with the server-assisted app PIN (issue 12 §6, issue 15;
// docs/mobile-key-app.md "The vault"). Nothing in IndexedDB opens without the server:
//
//   raw          = PBKDF2-SHA256(PIN, salt, 200000 iterations), 96 bytes
//   pin_key      = raw[0:32]   proof_key = raw[32:64]   off_key = raw[64:96]
//   pin_verifier = HMAC-SHA256(proof_key, "pin-proof")       (also the unlock "proof")
//   server_share, unlock_token = 32 random bytes each; the share is kept only by the server
//   vault_key    = HKDF-SHA256(pin_key ‖ server_share, info "securelogin-key-webapp/1")
//   bio_key      = HKDF-SHA256(biometric_share, info "securelogin-key-webapp/1/biometric")
//   prf_key      = HKDF-SHA256(PRF(credential, prf_salt), info "securelogin-key-webapp/1/offline-prf")
//
// A random data key DK (AES-256-GCM) seals the app's P-256 signing key (PKCS #8) and a
// random offline key OK (AES-CTR); DK itself is wrapped under vault_key (PIN path) and,
// when biometric unlock is on, under bio_key (the server releases biometric_share only for
// an assertion it verified). Each OCRA secret is encrypted under OK with AES-CTR, and OK is
// also encrypted under off_key with AES-CTR: no integrity tag ("camouflage"), so with the
// network off a PIN unlocks the Challenge screen without the server (R-KEY-5), and a
// wrong PIN gives a wrong 8-digit response instead of an error — a copied store cannot be
// tested against PIN guesses offline. When the biometric credential supports the WebAuthn
// PRF extension, OK is also wrapped (AES-GCM) under prf_key: offline, a local biometric
// assertion opens the Challenge screen; the PRF output comes only from the authenticator
// (its secret for a verified user), so a copied store cannot open it. Unwrapped keys are non-extractable (DK excepted,
// in memory while unlocked, to wrap itself under bio_key).
import { b64url, unb64url } from "./wire.js";

const ITERATIONS = 200000;
const INFO = "securelogin-key-webapp/1";
const utf8 = (text) => new TextEncoder().encode(text);
const GCM = "AES-GCM";
const random = (n) => crypto.getRandomValues(new Uint8Array(n));
const ctr = (counter) => ({ name: "AES-CTR", counter, length: 64 });

async function pinParts(pin, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", utf8(pin), "PBKDF2", false, ["deriveBits"]);
  const raw = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 768),
  );
  const proofKey = await crypto.subtle.importKey("raw", raw.slice(32, 64), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const verifier = new Uint8Array(await crypto.subtle.sign("HMAC", proofKey, utf8("pin-proof")));
  const offKey = await crypto.subtle.importKey("raw", raw.slice(64, 96), "AES-CTR", false, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
  return { pinKey: raw.slice(0, 32), verifier: b64url(verifier), offKey };
}

async function hkdfKey(ikm, info) {
  const base = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) },
    base,
    { name: GCM, length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  );
}

const joined = (a, b) => Uint8Array.of(...a, ...b);

async function wrapGcm(format, key, wrapping) {
  const iv = random(12);
  return { iv: b64url(iv), data: b64url(await crypto.subtle.wrapKey(format, key, wrapping, { name: GCM, iv })) };
}

async function unwrapGcm(format, sealed, wrapping, algorithm, extractable, usages) {
  return crypto.subtle.unwrapKey(format, unb64url(sealed.data), wrapping, { name: GCM, iv: unb64url(sealed.iv) }, algorithm, extractable, usages);
}

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const DK_USES = ["wrapKey", "unwrapKey", "encrypt", "decrypt"];
const OK_USES = ["encrypt", "decrypt", "unwrapKey"];

/** A new vault for `signingKey` (extractable, dropped by the caller afterwards). */
export async function createVault(pin, signingKey) {
  const salt = random(16);
  const parts = await pinParts(pin, salt, ITERATIONS);
  const share = random(32);
  const token = random(32);
  const dk = await crypto.subtle.generateKey({ name: GCM, length: 256 }, true, DK_USES);
  const ok = await crypto.subtle.generateKey({ name: "AES-CTR", length: 256 }, true, OK_USES);
  const okCounter = random(16);
  const record = {
    vault: 2,
    pinSalt: b64url(salt),
    pinIterations: ITERATIONS,
    unlockToken: b64url(token),
    dk: { pin: await wrapGcm("raw", dk, await hkdfKey(joined(parts.pinKey, share), INFO)) },
    signing: await wrapGcm("pkcs8", signingKey, dk),
    offline: {
      pin: { ctr: b64url(okCounter), data: b64url(await crypto.subtle.wrapKey("raw", ok, parts.offKey, ctr(okCounter))) },
      dk: await wrapGcm("raw", ok, dk),
    },
  };
  const session = await open(record, dk);
  return { record, session, pinVerifier: parts.verifier, serverShare: b64url(share), unlockToken: b64url(token) };
}

/** What the PIN gives before the server is asked: the unlock proof and the offline key. */
export async function pinProof(record, pin) {
  const parts = await pinParts(pin, unb64url(record.pinSalt), record.pinIterations);
  return { proof: parts.verifier, pinKey: parts.pinKey, offKey: parts.offKey };
}

async function open(record, dk) {
  const privateKey = await unwrapGcm("pkcs8", record.signing, dk, ECDSA, false, ["sign"]);
  const offline = await unwrapGcm("raw", record.offline.dk, dk, "AES-CTR", false, ["encrypt", "decrypt", "unwrapKey"]);
  return { dk, privateKey, offline };
}

/** The vault opened with the PIN's key and the share the server released. */
export async function openWithShare(record, pinKey, serverShare) {
  const vaultKey = await hkdfKey(joined(pinKey, unb64url(serverShare)), INFO);
  return open(record, await unwrapGcm("raw", record.dk.pin, vaultKey, { name: GCM }, true, DK_USES));
}

/** The vault opened with the biometric share the server released for an assertion. */
export async function openWithBiometric(record, biometricShare) {
  const bioKey = await hkdfKey(unb64url(biometricShare), `${INFO}/biometric`);
  return open(record, await unwrapGcm("raw", record.dk.bio, bioKey, { name: GCM }, true, DK_USES));
}

/** No network: only the offline key, from the PIN alone (a wrong PIN gives a wrong key). */
export async function openOffline(record, offKey) {
  const sealed = record.offline.pin;
  const offline = await crypto.subtle.unwrapKey("raw", unb64url(sealed.data), offKey, ctr(unb64url(sealed.ctr)), "AES-CTR", false, ["encrypt", "decrypt", "unwrapKey"]);
  return { dk: null, privateKey: null, offline };
}

/** DK wrapped under the key of a new biometric share (biometric unlock turned on). */
export async function wrapForBiometric(session, biometricShare) {
  return wrapGcm("raw", session.dk, await hkdfKey(unb64url(biometricShare), `${INFO}/biometric`));
}

/** An OCRA secret (bytes from the server) encrypted under the offline key. */
export async function sealOcra(session, secret) {
  const counter = random(16);
  const data = await crypto.subtle.encrypt(ctr(counter), session.offline, secret);
  return { ctr: b64url(counter), data: b64url(data) };
}

/** The user's OCRA key (non-extractable HMAC) through the session's offline key. */
export async function ocraKey(session, sealed, hash) {
  return crypto.subtle.unwrapKey("raw", unb64url(sealed.data), session.offline, ctr(unb64url(sealed.ctr)), { name: "HMAC", hash }, false, ["sign"]);
}

/** The offline key OK wrapped (AES-GCM) under a key derived from the PRF output of the
 * biometric credential (issue 15): offline, a local biometric assertion opens the
 * Challenge screen. OK is unwrapped once more, extractable, only to be wrapped here. */
export async function wrapOfflineForPrf(record, session, prfOutput) {
  const ok = await unwrapGcm("raw", record.offline.dk, session.dk, "AES-CTR", true, OK_USES);
  return wrapGcm("raw", ok, await hkdfKey(prfOutput, `${INFO}/offline-prf`));
}

/** No network, biometrics: the offline key from the PRF output (a wrong output fails
 * the GCM tag — nothing to guess: it is 32 bytes of the authenticator's HMAC). */
export async function openOfflineWithPrf(record, prfOutput) {
  if (!prfOutput) throw new Error("no PRF output");
  const sealed = record.bio.prf.ok;
  const offline = await unwrapGcm("raw", sealed, await hkdfKey(prfOutput, `${INFO}/offline-prf`), "AES-CTR", false, OK_USES);
  return { dk: null, privateKey: null, offline };
}

export const randomShare = () => b64url(random(32));
