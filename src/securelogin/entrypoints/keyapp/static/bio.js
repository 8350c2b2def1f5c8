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

/** The PublicKeyCredential as the JSON the server reads (binary fields base64url). */
export function credentialJson(credential) {
  const r = credential.response;
  const out = {
    id: credential.id,
    rawId: b64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
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

/** navigator.credentials.create with the server's creation options. */
export async function create(options) {
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: unb64url(options.challenge),
      user: { ...options.user, id: unb64url(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials),
    },
  });
  return credentialJson(credential);
}

/** navigator.credentials.get with the server's request options. */
export async function get(options) {
  const credential = await navigator.credentials.get({
    publicKey: { ...options, challenge: unb64url(options.challenge), allowCredentials: descriptors(options.allowCredentials) },
  });
  return credentialJson(credential);
}
