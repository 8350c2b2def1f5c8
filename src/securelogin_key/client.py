"""HTTP calls of docs/mobile-key-protocol.md; signed with the app key after activation.

Every transport failure becomes ``Unreachable`` (exit 3) and every problem answer
``ServerRefused`` with the server's stable ``code`` (exit 1).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from securelogin_key.errors import ServerRefused, Unreachable, UsageError
from securelogin_key.wire import b64url, canonical_json, request_headers, unb64url

API = "/api/v1"
USER_AGENT = "securelogin-key/1"
DEACTIVATED = (
    "the server no longer accepts this app: it was deactivated (its username moved to "
    "another phone) or this computer's clock is off by more than 120 s"
)


def check_server_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise UsageError(f"--server must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


class KeyClient:
    """One server; ``signer`` is (app_id, private key) once the app is activated."""

    def __init__(
        self,
        server: str,
        *,
        signer: tuple[str, ec.EllipticCurvePrivateKey] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.server = check_server_url(server)
        self._prefix = urlsplit(self.server).path
        self._signer = signer
        self._timeout = timeout
        self._http = httpx.Client(
            base_url=self.server,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    # -- activation (unsigned: the app has no key on record yet) -----------------
    def start_activation(self, username: str, password: str) -> dict[str, Any]:
        return self._call("POST", "/key/activations", {"username": username, "password": password})

    def send_code(self, activation_id: str, choice: dict[str, str]) -> dict[str, Any]:
        return self._call("POST", f"/key/activations/{activation_id}/code", choice)

    def complete(self, activation_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/key/activations/{activation_id}/complete", body)

    # -- the server-assisted app PIN (unsigned: the signing key is in the vault) ------
    def unlock(self, app_id: str, token: bytes, proof: bytes) -> bytes:
        """The vault's server share for the PIN proof (``ServerRefused`` otherwise)."""
        body = {"unlock_token": b64url(token), "proof": b64url(proof)}
        answer = self._call("POST", f"/key/apps/{app_id}/unlock", body)
        try:
            return unb64url(str(answer["server_share"]))
        except (KeyError, ValueError):
            raise ServerRefused(
                "malformed", "the server's unlock answer is malformed", 200
            ) from None

    def reset_pin(self, app_id: str, token: bytes, recovery_pin: str) -> None:
        body = {"unlock_token": b64url(token), "recovery_pin": recovery_pin}
        self._call("POST", f"/key/apps/{app_id}/pin/reset", body)

    # -- signed calls -------------------------------------------------------------
    def set_pin(self, app_id: str, body: dict[str, str]) -> None:
        self._call("PUT", f"/key/apps/{app_id}/pin", body, signed=True)

    def add_user(self, app_id: str, body: dict[str, str]) -> dict[str, Any]:
        return self._call("POST", f"/key/apps/{app_id}/users", body, signed=True)

    def app_info(self, app_id: str) -> dict[str, Any]:
        return self._call("GET", f"/key/apps/{app_id}", None, signed=True)

    def pushes(self, app_id: str, *, wait: int) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", f"/key/apps/{app_id}/pushes?wait={wait}", None, signed=True, extra=wait
        )
        pushes = answer.get("pushes")
        return [p for p in pushes if isinstance(p, dict)] if isinstance(pushes, list) else []

    def answer_push(self, push_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/key/pushes/{push_id}/answer", body, signed=True)

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        signed: bool = False,
        extra: float = 0,
    ) -> dict[str, Any]:
        full_path = f"{self._prefix}{API}{path}"
        content = canonical_json(body) if body is not None else b""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if signed:
            if self._signer is None:  # pragma: no cover - a programming error
                raise RuntimeError("signed call without an app key")
            app_id, key = self._signer
            headers |= request_headers(
                key,
                app_id=app_id,
                method=method,
                path_with_query=full_path,
                timestamp=int(time.time()),
                body=content,
            )
        try:
            response = self._http.request(
                method,
                f"{API}{path}",
                content=content or None,
                headers=headers,
                timeout=httpx.Timeout(self._timeout, read=self._timeout + extra),
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach {self.server}: {exc or type(exc).__name__}") from None
        return _decode(response)


def _decode(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 204:
        return {}
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success and isinstance(data, dict):
        return data
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        message = str(data.get("message") or data.get("title") or data["code"])
        if data["code"] == "key_signature_invalid":
            message = DEACTIVATED
        raise ServerRefused(data["code"], message, response.status_code)
    where = f"HTTP {response.status_code} to {response.request.url.path}"
    if 400 <= response.status_code < 500:
        raise ServerRefused(f"http_{response.status_code}", f"the server refused: {where}", 400)
    raise Unreachable(f"the server answered {where}")
