"""TLS behind a reverse proxy (SPEC §10.2 ``SECURELOGIN_TRUSTED_PROXIES``; issue 12, finding 4).

A real reverse proxy on loopback, in this process: uvicorn serving a small forwarding
app over TLS (a self-signed certificate made here), in front of the real app served by
uvicorn over plain HTTP, like nginx's ``proxy_set_header X-Forwarded-For/-Proto``.  The
client connects from 127.0.0.2, the proxy from 127.0.0.1: only the proxy is trusted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from securelogin.bootstrap import bootstrap, load_settings
from securelogin.config import Settings
from securelogin.entrypoints.api.app import create_app
from securelogin.entrypoints.api.transport import forwarded_client, secure_cookie
from securelogin.errors import ConfigurationError
from securelogin.service.context import Services
from tests.conftest import make_settings
from tests.dbutil import scalar, url_of
from tests.devices import KINDS, PASSWORD, Brokerage
from tests.e2e.portal_forms import csrf_of
from tests.e2e.servers import serve
from tests.fakes import FakeClock

HSTS = "max-age=31536000; includeSubDomains"
CLIENT = "127.0.0.2"
#: headers a proxy sets itself and never passes through from the client
HOP_HEADERS = {b"host", b"x-forwarded-for", b"x-forwarded-proto", b"connection"}


def reverse_proxy(backend: str) -> ASGIApp:
    """Forward every request to ``backend``, saying who asked and over what scheme."""

    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in HOP_HEADERS]
        headers += [
            (b"x-forwarded-for", str(scope["client"][0]).encode()),
            (b"x-forwarded-proto", str(scope["scheme"]).encode()),
        ]
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        async with httpx.AsyncClient(base_url=backend) as client:
            upstream = await client.request(
                request.method, target, headers=headers, content=await request.body()
            )
        passed = [
            (k, v)
            for k, v in upstream.headers.raw
            if k.lower() not in {b"transfer-encoding", b"connection", b"date", b"server"}
        ]
        await send(
            {"type": "http.response.start", "status": upstream.status_code, "headers": passed}
        )
        await send({"type": "http.response.body", "body": upstream.content})

    return proxy


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "proxy.pem", folder / "proxy.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    wired = bootstrap(make_settings(f"sqlite:///{tmp_path}/p.db"), migrate=True, clock=FakeClock())
    Brokerage().user("alice", KINDS["dsc"].device).load(wired)
    yield wired
    wired.database.close()


@pytest.fixture
def backend(services: Services) -> Iterator[int]:
    settings = make_settings("sqlite://", trusted_proxies="127.0.0.1")
    app = create_app(services, trusted_proxies=settings.trusted_proxy_networks)
    with serve(app) as port:
        yield port


def log_in(client: httpx.Client, base: str) -> tuple[httpx.Response, httpx.Response]:
    """The portal's login form and its password step, like a browser."""
    form = client.get(f"{base}/")
    posted = client.post(
        f"{base}/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert posted.status_code == 303, posted.text
    return form, posted


def set_cookies(*answers: httpx.Response) -> list[str]:
    return [v for a in answers for v in a.headers.get_list("set-cookie")]


def test_SPEC_10_2_behind_a_trusted_tls_proxy_cookies_are_secure_hsts_is_sent_client_ip_kept(
    services: Services, backend: int, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    proxy = reverse_proxy(f"http://127.0.0.1:{backend}")
    with serve(proxy, ssl_certfile=str(cert), ssl_keyfile=str(key)) as port:
        trust = ssl.create_default_context(cafile=str(cert))
        transport = httpx.HTTPTransport(verify=trust, local_address=CLIENT)
        with httpx.Client(transport=transport) as client:
            form, posted = log_in(client, f"https://127.0.0.1:{port}")
    cookies = set_cookies(form, posted)
    assert {c.split("=")[0] for c in cookies} >= {"sl_csrf", "sl_login"}
    assert all("; secure" in c.lower() for c in cookies), cookies
    assert form.headers["strict-transport-security"] == HSTS
    assert posted.headers["strict-transport-security"] == HSTS
    # the login's ceremony (and so the push's "where", R-KEY-4) names the client
    assert (
        scalar(url_of(services), "SELECT client_ip FROM ceremonies WHERE purpose = 'login'")
        == CLIENT
    )


def test_SPEC_10_2_forwarded_headers_from_an_untrusted_peer_are_ignored(
    services: Services, backend: int
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(transport=transport, headers=forged) as client:
        form, posted = log_in(client, f"http://127.0.0.1:{backend}")
    cookies = set_cookies(form, posted)
    assert cookies and not [c for c in cookies if "secure" in c.lower()]
    assert "strict-transport-security" not in form.headers
    assert (
        scalar(url_of(services), "SELECT client_ip FROM ceremonies WHERE purpose = 'login'")
        == "127.0.0.3"
    )


def test_SPEC_10_2_without_trusted_proxies_nobody_may_claim_https(services: Services) -> None:
    with TestClient(create_app(services), headers={"X-Forwarded-Proto": "https"}) as client:
        form = client.get("/")
    assert "strict-transport-security" not in form.headers
    assert "secure" not in form.headers["set-cookie"].lower()


def test_SPEC_10_2_direct_https_sends_hsts_and_secure_cookies(services: Services) -> None:
    with TestClient(create_app(services), base_url="https://testserver") as client:
        form = client.get("/")
        assert form.headers["strict-transport-security"] == HSTS
        assert "; secure" in form.headers["set-cookie"].lower()
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"] == HSTS


def test_SPEC_10_2_production_marks_every_cookie_secure_even_over_http(
    services: Services,
) -> None:
    with TestClient(create_app(services, production=True)) as client:
        form = client.get("/")
        assert "; secure" in form.headers["set-cookie"].lower()
        lang = client.get("/lang/de", follow_redirects=False)
    assert "; secure" in lang.headers["set-cookie"].lower()
    assert "strict-transport-security" not in form.headers


def test_the_client_is_the_last_untrusted_hop_of_x_forwarded_for() -> None:
    networks = make_settings("sqlite://", trusted_proxies="10.0.0.0/8").trusted_proxy_networks
    assert forwarded_client("198.51.100.1, 203.0.113.5, 10.0.0.2", networks) == "203.0.113.5"
    assert forwarded_client("10.0.0.3", networks) == "10.0.0.3"
    assert forwarded_client("not-an-address", networks) is None
    assert secure_cookie(b"a=1; Path=/; Secure") == b"a=1; Path=/; Secure"
    assert secure_cookie(b"a=1; Path=/") == b"a=1; Path=/; Secure"


def test_SPEC_10_2_trusted_proxies_must_be_addresses_or_cidrs() -> None:
    settings: Settings = load_settings(trusted_proxies=" 10.0.0.0/8, ::1 ,192.168.1.1")
    assert [str(n) for n in settings.trusted_proxy_networks] == [
        "10.0.0.0/8",
        "::1/128",
        "192.168.1.1/32",
    ]
    assert load_settings().trusted_proxy_networks == ()
    with pytest.raises(ConfigurationError, match=r"'proxy\.internal' is not an IP address"):
        load_settings(trusted_proxies="proxy.internal")
