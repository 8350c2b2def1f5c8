// Biometric unlock: a WebAuthn platform credential with user verification (Face ID,
// Touch ID, Android biometrics) whose assertion replaces typing the app PIN.
// The assertion is checked here, as a relying party would: the challenge, origin and
// type of clientDataJSON, the RP ID hash and the UP and UV flags of authenticatorData,
// and the ES256 signature with the public key kept at registration.
import { b64url, derToRaw, sha256Hex } from "./wire.js";

const ES256 = -7;
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;

export async function available() {
  if (!window.PublicKeyCredential || !PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable) return false;
  return PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
}

/** Register a platform credential; returns {id, publicKey} to keep with the app. */
export async function register(label) {
  const credential = await navigator.credentials.create({
    publicKey: {
      rp: { name: "securelogin Mobile Key", id: location.hostname },
      user: { id: crypto.getRandomValues(new Uint8Array(16)), name: label, displayName: label },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: "public-key", alg: ES256 }],
      authenticatorSelection: {
        authenticatorAttachment: "platform",
        userVerification: "required",
        residentKey: "discouraged",
      },
      attestation: "none",
      timeout: 60000,
    },
  });
  if (credential.response.getPublicKeyAlgorithm() !== ES256) throw new Error("not an ES256 credential");
  return { id: new Uint8Array(credential.rawId), publicKey: new Uint8Array(credential.response.getPublicKey()) };
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hexBytes = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));

/** True when the person passed the platform's user verification for `bio`. */
export async function verify(bio) {
  const challenge = crypto.getRandomValues(new Uint8Array(32));
  let assertion;
  try {
    assertion = await navigator.credentials.get({
      publicKey: {
        challenge,
        rpId: location.hostname,
        allowCredentials: [{ type: "public-key", id: bio.id }],
        userVerification: "required",
        timeout: 60000,
      },
    });
  } catch {
    return false; // refused, cancelled or not verified
  }
  if (!assertion) return false;
  const response = assertion.response;
  const clientJson = new Uint8Array(response.clientDataJSON);
  const client = JSON.parse(new TextDecoder().decode(clientJson));
  if (client.type !== "webauthn.get" || client.challenge !== b64url(challenge) || client.origin !== location.origin) {
    return false;
  }
  const authData = new Uint8Array(response.authenticatorData);
  const rpIdHash = hexBytes(await sha256Hex(new TextEncoder().encode(location.hostname)));
  const flags = authData[32];
  if (!sameBytes(authData.slice(0, 32), rpIdHash) || !(flags & FLAG_UP) || !(flags & FLAG_UV)) return false;
  const signed = new Uint8Array([...authData, ...hexBytes(await sha256Hex(clientJson))]);
  const key = await crypto.subtle.importKey("spki", bio.publicKey, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  try {
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      derToRaw(new Uint8Array(response.signature)),
      signed,
    );
  } catch {
    return false;
  }
}
