// Passkeys in the portal (issue 16 §2, docs/security-settings.md): the add form asks the
// server for creation options, lets the browser create the credential and posts it; an
// answer form of prompt type "passkey" (login, withdrawal) gets an assertion over the
// challenge the page shows and posts it as the answer.  The server verifies everything.

const b64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const bytes = (text) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4)), (c) =>
    c.charCodeAt(0),
  );

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

/** The server's creation options (JSON) as navigator.credentials.create wants them. */
export function creationOptions(json) {
  return {
    ...json,
    challenge: bytes(json.challenge),
    user: { ...json.user, id: bytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
  };
}

function fail(box, text, error) {
  console.warn("passkey:", error && error.name);
  box.textContent = text;
  box.hidden = false;
}

function wireAdd(form) {
  const box = form.querySelector("#passkey-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    box.hidden = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const body = new URLSearchParams(new FormData(form));
      const answer = await fetch(form.dataset.options, { method: "POST", body, credentials: "same-origin" });
      const started = await answer.json();
      if (!answer.ok) throw new Error(started.code || "refused");
      const credential = await navigator.credentials.create({ publicKey: creationOptions(started.options) });
      form.elements.registration_id.value = started.registration_id;
      form.elements.credential.value = JSON.stringify(credentialJson(credential));
      HTMLFormElement.prototype.submit.call(form);
    } catch (error) {
      button.disabled = false;
      fail(box, form.dataset.error, error);
    }
  });
}

function wireAnswer(input) {
  const form = input.form;
  const box = form.querySelector("#passkey-error");
  form.addEventListener("submit", async (event) => {
    if (input.value) return; // the assertion is in: let the form go
    event.preventDefault();
    box.hidden = true;
    try {
      const options = { challenge: bytes(input.dataset.passkeyChallenge), userVerification: "required", timeout: 120000 };
      if (input.dataset.passkeyRpId) options.rpId = input.dataset.passkeyRpId;
      const credential = await navigator.credentials.get({ publicKey: options });
      input.value = JSON.stringify(credentialJson(credential));
      HTMLFormElement.prototype.submit.call(form);
    } catch (error) {
      fail(box, input.dataset.passkeyError, error);
    }
  });
}

const add = document.getElementById("passkey-add-form");
if (add) wireAdd(add);
for (const input of document.querySelectorAll("input[data-passkey-challenge]")) wireAnswer(input);
