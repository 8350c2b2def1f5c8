"""The mobile key web app's files at /key/ (issue 15): the manifest makes it installable
(name, short_name, start_url and scope under /key/, standalone, 192 and 512 px PNG icons),
the service worker is served for scope /key/, every answer carries the portal's
self-only Content-Security-Policy, nothing outside the app's file list is served, and the
app can learn the server's VAPID key to subscribe to Web Push."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.keyapp.routes import FILES, STATIC_DIR
from securelogin.service.context import Services
from tests.webpush_kit import vapid_provider, with_webpush

BASE = "http://testserver/key/manifest.webmanifest"


@pytest.fixture
def client(fake_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(fake_services)) as c:
        yield c


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_key_app_manifest_makes_the_app_installable_under_key(client: TestClient) -> None:
    answer = client.get("/key/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest = json.loads(answer.content)
    assert manifest["name"] and manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert urljoin(BASE, manifest["start_url"]) == "http://testserver/key/"
    assert urljoin(BASE, manifest["scope"]) == "http://testserver/key/"
    sizes = {}
    for icon in manifest["icons"]:
        got = client.get(urljoin(BASE, icon["src"]))
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        width, height = png_size(got.content)
        assert icon["sizes"] == f"{width}x{height}" and icon["type"] == "image/png"
        sizes[width] = icon
    assert {192, 512} <= set(sizes)


def test_key_app_shell_and_service_worker_are_served_with_a_self_only_policy(
    client: TestClient,
) -> None:
    shell = client.get("/key/")
    assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/html")
    policy = shell.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe" not in policy and "http" not in policy  # no CDN, no inline script
    assert b'<script type="module" src="app.js">' in shell.content
    assert b"<style" not in shell.content and b" style=" not in shell.content
    worker = client.get("/key/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/key/"
    assert client.get("/key", follow_redirects=False).headers["location"] == "/key/"
    for name in FILES:  # everything the shell lists exists and is served
        assert client.get(f"/key/{name}").status_code == 200, name


def test_key_app_serves_only_its_own_files(client: TestClient) -> None:
    assert (STATIC_DIR / "package.json").exists()  # for node --test, never served
    for name in ("package.json", "nope.js", "..%2F..%2Fpyproject.toml", "%2e%2e"):
        answer = client.get(f"/key/{name}")
        assert answer.status_code == 404, name
        assert answer.json()["code"] == "not_found"
    assert client.get("/key/sub/app.js").status_code == 404


def test_key_app_worker_caches_every_file_the_shell_loads() -> None:
    worker = (STATIC_DIR / "sw.js").read_text()
    for name in FILES:
        if name not in ("index.html", "sw.js"):
            assert f'"{name}"' in worker, f"sw.js does not cache {name}"


def test_R_KEY_4_the_app_gets_the_vapid_key_to_subscribe_with(fake_services: Services) -> None:
    with TestClient(create_app(fake_services)) as plain:
        answer = plain.get("/api/v1/key/webpush")
        assert answer.status_code == 200 and answer.json() == {"application_server_key": None}
    provider, point = vapid_provider()
    with TestClient(create_app(with_webpush(fake_services, provider))) as configured:
        key = configured.get("/api/v1/key/webpush").json()["application_server_key"]
    assert base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)) == point
    assert len(point) == 65 and point[0] == 4 and "=" not in key
