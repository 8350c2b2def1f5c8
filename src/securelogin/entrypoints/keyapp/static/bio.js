// Biometric unlock registered with the server (issue 15): a WebAuthn platform credential
// with user verification (Face ID, Touch ID, Android biometrics). The server issues the
// challenge, verifies the assertion (origin, RP ID, flags, signature, sign count) and only
// then releases the biometric share that opens the vault (vault.js) — the assertion
// replaces typing the PIN in the server-assisted unlock.
import { b64url, unb64url } from "./wire.js";

export async function available() {
  if (!window.PublicKeyCredential || !PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable) return false;
  return PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
}

const descriptors = (list) => (list || []).map((c) => ({ ...c, id: unb64url(c.id) }));

/** The PublicKeyCredential as the JSON the server reads (binary fields base64url). The
 * PRF extension's outputs never leave the phone: only whether it is enabled is sent. */
export function credentialJson(credential) {
  const r = credential.response;
  const extensions = { ...(credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}) };
  if (extensions.prf) extensions.prf = extensions.prf.enabled === undefined ? {} : { enabled: extensions.prf.enabled };
  const out = {
    id: credential.id,
    rawId: b64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: extensions,
    response: { clientDataJSON: b64url(r.clientDataJSON) },
  };
  if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
  if (r.attestationObject) {
    out.response.attestationObject = b64url(r.attestationObject);
    out.response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = b64url(r.authenticatorData);
    out.response.signature = b64url(r.signature);
    if (r.userHandle) out.response.userHandle = b64url(r.userHandle);
  }
  return out;
}

/** The PRF extension's first output, if the authenticator gave one. */
function prfFirst(credential) {
  const prf = (credential.getClientExtensionResults() || {}).prf;
  const first = prf && prf.results && prf.results.first;
  return first ? new Uint8Array(first) : null;
}

/** navigator.credentials.create with the server's creation options, asking for the PRF
 * extension (WebAuthn L3, CTAP2 hmac-secret) evaluated at `prfSalt` (base64url): the
 * credential JSON for the server, and — kept on the phone — whether the authenticator
 * supports PRF and its output when it gives one at creation already. */
export async function create(options, prfSalt) {
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: unb64url(options.challenge),
      user: { ...options.user, id: unb64url(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials),
      extensions: { ...(options.extensions || {}), prf: { eval: { first: unb64url(prfSalt) } } },
    },
  });
  const prf = (credential.getClientExtensionResults() || {}).prf || {};
  return {
    credential: credentialJson(credential),
    rpId: (options.rp && options.rp.id) || location.hostname,
    prfEnabled: prf.enabled === true,
    prf: prfFirst(credential),
  };
}

/** A local assertion (no server: a challenge of our own, which nobody verifies) for the
 * PRF output at `salt`, user verification required; the authenticator's secret for a
 * verified user never leaves it, only HMAC(secret, salt) does. Null without PRF. */
export async function prfOutput(record, salt) {
  const credential = await navigator.credentials.get({
    publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      rpId: record.rpId,
      allowCredentials: [{ type: "public-key", id: unb64url(record.credentialId) }],
      userVerification: "required",
      timeout: 60000,
      extensions: { prf: { eval: { first: unb64url(salt) } } },
    },
  });
  return prfFirst(credential);
}

/** navigator.credentials.get with the server's request options. */
export async function get(options) {
  const credential = await navigator.credentials.get({
    publicKey: { ...options, challenge: unb64url(options.challenge), allowCredentials: descriptors(options.allowCredentials) },
  });
  return credentialJson(credential);
}
