"""PSKC files written by another tool, python-pskc, go into stock and log in (R-OPS-3).

The files are written by the python-pskc library in the test itself: plain, under a
pre-shared key and under a password (PBKDF2 with its parameters in the xmlenc11 namespace
and the PRF as text, as python-pskc writes them), with HOTP, TOTP and OCRA seeds.  Each
device is then assigned and logs in over HTTP with a code computed outside the server:
TOTP by ``oathtool``, OCRA by ``domain.otp.ocra`` (held to the RFC 6287 vectors in
tests/unit/test_otp_vectors.py).
"""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pskc  # python-pskc, the other tool
import pytest
from fastapi.testclient import TestClient

from securelogin.adapters.pskc import algorithm_name, read_pskc
from securelogin.domain import otp
from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.devices.registry import DSC_PLUS_SUITE, LEGACY_CARD_SUITE
from securelogin.service.context import Services
from securelogin.service.lifecycle import inventory
from tests.devices import PASSWORD, Brokerage
from tests.fakes import FakeClock

HOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
OCRA_URI = f"urn:ietf:params:xml:ns:keyprov:pskc#{DSC_PLUS_SUITE}"
FILE_PASSWORD = "Manufacturer-Batch-7"
PRESHARED = bytes(range(32))
PIN = "4821"


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The reader is what is tested here: one database engine is enough."""
    return sqlite_url


Protect = Callable[[Any], None]
PROTECTIONS: dict[str, Protect] = {
    "plain": lambda container: None,
    "preshared_key": lambda container: container.encryption.setup_preshared_key(
        key=PRESHARED, key_name="Pre-shared-key", algorithm="aes256-cbc"
    ),
    "password": lambda container: container.encryption.setup_pbkdf2(
        FILE_PASSWORD, iterations=1000, prf="hmac-sha256"
    ),
}


def python_pskc_file(protection: str, serial: str, algorithm: str, secret: bytes) -> bytes:
    """One key written by python-pskc (``pskc.PSKC().write``), as a manufacturer would."""
    container = pskc.PSKC()
    timed = algorithm == TOTP_URI
    container.add_key(
        id=f"k-{serial}",
        serial=serial,
        manufacturer="Other Tool Inc.",
        secret=secret,
        algorithm=algorithm,
        response_length=6 if timed else 8,
        **({"time_interval": 30} if timed else {"counter": 0}),
    )
    PROTECTIONS[protection](container)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


def oathtool_totp(secret: bytes, at: float) -> str:
    oathtool = shutil.which("oathtool")
    assert oathtool, "oathtool must be installed (scripts/test-services.sh installs it)"
    return subprocess.run(
        [oathtool, "--totp", secret.hex(), "--now", f"@{int(at)}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def log_in(api: TestClient, username: str, answer: Callable[[dict[str, Any]], str]) -> Any:
    started = api.post("/api/v1/logins", json={"username": username, "password": PASSWORD})
    assert started.status_code == 201, started.text
    body = started.json()
    done = api.post(
        f"/api/v1/logins/{body['login_id']}/answer",
        json={"response": answer(body["factor"]["prompt"])},
    )
    assert done.status_code == 200, done.text
    return done.json()["session"]["tier"]


@pytest.mark.parametrize("protection", sorted(PROTECTIONS))
def test_R_OPS_3_python_pskc_files_import_and_their_devices_log_in(
    services: Services, api: TestClient, clock: FakeClock, protection: str
) -> None:
    Brokerage().user("hana", phone=None).user("tom", phone=None).user("olga", phone=None).load(
        services
    )
    seeds = {name: secrets.token_bytes(size) for name, size in (("h", 20), ("t", 20), ("o", 32))}
    files = [
        (DeviceKind.GOLD_CARD, "OT-HOTP-1", HOTP_URI, seeds["h"], "hana"),
        (DeviceKind.DSC, "OT-TOTP-1", TOTP_URI, seeds["t"], "tom"),
        (DeviceKind.DSC_PLUS, "OT-OCRA-1", OCRA_URI, seeds["o"], "olga"),
    ]
    for kind, serial, algorithm, secret, username in files:
        data = python_pskc_file(protection, serial, algorithm, secret)
        report = inventory.import_seed_file(
            services,
            data,
            kind=kind,
            password=FILE_PASSWORD if protection == "password" else None,
            preshared_key=PRESHARED if protection == "preshared_key" else None,
            actor="logistics",
        )
        assert report.serials == (serial,)
        pin = PIN if kind is DeviceKind.DSC_PLUS else None
        inventory.assign_device(services, serial=serial, username=username, actor="t", pin=pin)

    at = clock.now().timestamp()
    hotp_card = log_in(
        api, "hana", lambda p: otp.ocra(LEGACY_CARD_SUITE, seeds["h"], question=p["challenge"])
    )
    totp_token = log_in(api, "tom", lambda p: oathtool_totp(seeds["t"], at))
    ocra_token = log_in(
        api,
        "olga",
        lambda p: otp.ocra(DSC_PLUS_SUITE, seeds["o"], question=p["challenge"], pin=PIN),
    )
    assert [hotp_card["device_kind"], totp_token["device_kind"], ocra_token["device_kind"]] == [
        "gold_card",
        "dsc",
        "dsc_plus",
    ]


def test_R_OPS_3_a_python_pskc_password_file_reads_with_the_right_password_only() -> None:
    data = python_pskc_file("password", "OT-1", TOTP_URI, b"12345678901234567890")
    assert b"xenc11:PBKDF2-params" in data  # the spelling the reader used to refuse
    (key,) = read_pskc(data, password=FILE_PASSWORD)
    assert (key.serial, key.secret, key.time_interval) == ("OT-1", b"12345678901234567890", 30)
    with pytest.raises(ValueError, match="wrong password"):
        read_pskc(data, password="not-" + FILE_PASSWORD)


@pytest.mark.parametrize("algorithm", ["kw-aes128", "kw-aes256", "aes256-cbc"])
def test_R_OPS_3_python_pskc_files_under_other_ciphers_read(algorithm: str) -> None:
    container = pskc.PSKC()
    container.add_key(id="1", serial="OT-2", secret=b"0123456789abcdef0123", algorithm=HOTP_URI)
    container.encryption.setup_pbkdf2(FILE_PASSWORD, iterations=1000, algorithm=algorithm)
    out = io.BytesIO()
    container.write(out)
    (key,) = read_pskc(out.getvalue(), password=FILE_PASSWORD)
    assert key.secret == b"0123456789abcdef0123"


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2", "pbkdf2"),
        ("http://www.w3.org/2009/xmlenc11#pbkdf2", "pbkdf2"),
        ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes128-cbc"),
        ("http://www.w3.org/2001/04/xmlenc#pbe-aes256-cbc", "aes256-cbc"),
        ("http://www.w3.org/2000/09/xmldsig#hmac-sha1", "hmac-sha1"),
        ("http://www.w3.org/2001/04/xmldsig-more#hmac-sha-256", "hmac-sha256"),
        ("http://example.com/evil#aes128-cbc", None),
        ("aes128-cbc", None),
    ],
)
def test_R_OPS_3_every_namespace_spelling_of_an_algorithm_reads_as_one_name(
    uri: str, name: str | None
) -> None:
    assert algorithm_name(uri) == name
