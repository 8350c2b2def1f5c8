"""PSKC seed files imported and the hardware stock shown in the operator console, over HTTP
on SQLite and PostgreSQL (R-OPS-3): plain, password- and key-encrypted files go in whole;
a bad file, a wrong secret, a known serial, a wrong kind or an oversized upload is refused
with a stable code and stocks nothing; the role and the CSRF token are enforced."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from securelogin.adapters.pskc import PskcKey
from securelogin.adapters.pskc_writer import write_pskc
from securelogin.domain.operators import Operator, Role
from securelogin.entrypoints.console.logistics import BODY_MAX
from securelogin.errors import AccessDenied
from securelogin.service.context import Services
from securelogin.service.lifecycle import inventory
from tests.dbutil import scalar, url_of
from tests.e2e.portal_forms import csrf_of, messages_of
from tests.e2e.test_console import console_login, enrol
from tests.e2e.test_lifecycle_console import replacement_requested
from tests.fakes import FakeClock
from tests.lifecycle_kit import NEW_SERIAL

PAGE = "/console/logistics"
IMPORT = "/console/logistics/import"
TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
DSC_PLUS_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA256-8:QN06-PSHA1"
CARD_URI = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-8:QN08"
FILE_PASSWORD = "Qx-7741-vault"


def dsc(serial: str) -> PskcKey:
    return PskcKey(
        serial=serial,
        secret=secrets.token_bytes(20),
        algorithm=TOTP_URI,
        digits=6,
        time_interval=30,
        key_id=serial,
    )


def card(serial: str, algorithm: str = DSC_PLUS_URI) -> PskcKey:
    return PskcKey(
        serial=serial, secret=secrets.token_bytes(32), algorithm=algorithm, digits=8, key_id=serial
    )


def stock_of(html: str) -> dict[str, tuple[int, int, int]]:
    """The stock table read back: kind → (in stock, assigned, shipped)."""
    rows = re.findall(
        r'<tr data-kind="(\w+)">.*?data-count="in_stock">(\d+)<.*?data-count="assigned">(\d+)<'
        r'.*?data-count="shipped">(\d+)<',
        html,
        re.S,
    )
    return {kind: (int(a), int(b), int(c)) for kind, a, b, c in rows}


def refusal_code(html: str) -> str:
    found = re.search(r'class="import-refused" data-code="([\w.]+)"', html)
    assert found, "a refused import names its stable code"
    return found.group(1)


def upload(
    api: TestClient,
    page: str,
    data: bytes,
    kind: str,
    *,
    password: str = "",
    preshared_key: str = "",
    key_file: bytes | None = None,
    token: str | None = None,
) -> httpx.Response:
    files: dict[str, tuple[str, bytes, str]] = {"file": ("seeds.xml", data, "application/xml")}
    if key_file is not None:
        files["preshared_key_file"] = ("transport.key", key_file, "application/octet-stream")
    fields = {"kind": kind, "password": password, "preshared_key": preshared_key}
    fields["csrf_token"] = csrf_of(page) if token is None else token
    return api.post(IMPORT, data=fields, files=files)


def stocked(services: Services) -> tuple[object, object]:
    """Devices in the database, and import audit events."""
    url = url_of(services)
    return (
        scalar(url, "SELECT count(*) FROM devices"),
        scalar(url, "SELECT count(*) FROM audit_events WHERE action = 'inventory.imported'"),
    )


@pytest.fixture
def logistics(api: TestClient, services: Services) -> Iterator[str]:
    """Logged in as the logistics operator ``lara``; yields the logistics page."""
    console_login(api, services, "lara", enrol(services, "lara", Role.LOGISTICS))
    page = api.get(PAGE)
    assert page.status_code == 200
    yield page.text


def test_R_OPS_3_logistics_imports_plain_and_encrypted_seed_files_and_sees_the_stock(
    api: TestClient, services: Services, logistics: str
) -> None:
    assert stock_of(logistics) == {
        "dsc": (0, 0, 0),
        "dsc_plus": (0, 0, 0),
        "platinum_card": (0, 0, 0),
        "gold_card": (0, 0, 0),
    }
    plain = upload(api, logistics, write_pskc([dsc("DSC-0001"), dsc("DSC-0002")]), "dsc")
    assert plain.status_code == 200, plain.text
    html = plain.text
    assert 'data-imported="2" data-kind="dsc"' in html
    assert "2 devices (Digital Security Card) were put in stock." in html
    assert stock_of(html)["dsc"] == (2, 0, 0)

    locked = write_pskc([card("DSCP-0001")], password=FILE_PASSWORD, iterations=1000)
    encrypted = upload(api, html, locked, "dsc_plus", password=FILE_PASSWORD)
    assert encrypted.status_code == 200, encrypted.text
    assert stock_of(encrypted.text)["dsc_plus"] == (1, 0, 0)

    # a pre-shared key, typed in hex or uploaded as the CLI's key file
    aes_key = secrets.token_bytes(32)
    gold = write_pskc([card("GOLD-0001", CARD_URI)], preshared_key=aes_key)
    typed = upload(api, html, gold, "gold_card", preshared_key=aes_key.hex())
    assert typed.status_code == 200, typed.text
    platinum = write_pskc([card("PLAT-0001", CARD_URI)], preshared_key=aes_key)
    keyfile = upload(api, html, platinum, "platinum_card", key_file=aes_key.hex().encode() + b"\n")
    assert keyfile.status_code == 200, keyfile.text
    assert stock_of(keyfile.text) == {
        "dsc": (2, 0, 0),
        "dsc_plus": (1, 0, 0),
        "platinum_card": (1, 0, 0),
        "gold_card": (1, 0, 0),
    }
    url = url_of(services)
    assert scalar(url, "SELECT count(*) FROM devices WHERE state = 'in_stock'") == 5
    actors = scalar(
        url,
        "SELECT count(*) FROM audit_events WHERE action = 'inventory.imported' "
        "AND actor = 'operator:lara'",
    )
    assert actors == 4  # every import audited as the operator, in its own transaction
    assert FILE_PASSWORD not in html and aes_key.hex() not in keyfile.text


def test_R_OPS_3_a_refused_seed_file_gets_a_stable_code_and_stocks_nothing(
    api: TestClient, services: Services, logistics: str
) -> None:
    known = upload(api, logistics, write_pskc([dsc("DSC-0001")]), "dsc")
    assert known.status_code == 200
    before = stocked(services)
    aes_key = secrets.token_bytes(16)
    cases: list[tuple[str, bytes, str, dict[str, str], str]] = [
        (
            "wrong password",
            write_pskc([card("DSCP-0001")], password=FILE_PASSWORD, iterations=1000),
            "dsc_plus",
            {"password": "not-the-password"},
            "invalid_input.password",
        ),
        (
            "no password",
            write_pskc([card("DSCP-0001")], password=FILE_PASSWORD, iterations=1000),
            "dsc_plus",
            {},
            "invalid_input.password",
        ),
        (
            "wrong pre-shared key",
            write_pskc([card("GOLD-0001", CARD_URI)], preshared_key=aes_key),
            "gold_card",
            {"preshared_key": secrets.token_bytes(16).hex()},
            "invalid_input.preshared_key",
        ),
        (
            "a key that is no AES key",
            write_pskc([card("GOLD-0001", CARD_URI)], preshared_key=aes_key),
            "gold_card",
            {"preshared_key": "abc"},
            "invalid_input.preshared_key",
        ),
        ("not a PSKC file", b"<html><body>hello</body></html>", "dsc", {}, "invalid_input.file"),
        ("not XML at all", b"\x89PNG\r\n\x1a\n", "dsc", {}, "invalid_input.file"),
        ("no file chosen", b"", "dsc", {}, "invalid_input.file"),
        (
            "a serial already in stock",
            write_pskc([dsc("DSC-0009"), dsc("DSC-0001")]),
            "dsc",
            {},
            "invalid_input.serial",
        ),
        (
            "a kind that is not hardware",
            write_pskc([dsc("DSC-0009")]),
            "sms",
            {},
            "invalid_input.kind",
        ),
        (
            "TOTP seeds imported as DSC+",
            write_pskc([dsc("DSC-0009")]),
            "dsc_plus",
            {},
            "invalid_input.algorithm",
        ),
    ]
    page = known.text
    for case, data, kind, secrets_given, code in cases:
        answer = upload(
            api,
            page,
            data,
            kind,
            password=secrets_given.get("password", ""),
            preshared_key=secrets_given.get("preshared_key", ""),
        )
        assert answer.status_code == 422, (case, answer.status_code)
        html = answer.text
        assert refusal_code(html) == code, case
        assert "Nothing was put in stock." in messages_of(html), case
        assert stocked(services) == before, case
        assert stock_of(html)["dsc"] == (1, 0, 0), case
        page = html


def test_R_OPS_3_an_upload_over_the_size_cap_is_refused_with_413(
    api: TestClient, services: Services, logistics: str
) -> None:
    before = stocked(services)
    # just over the file cap, inside the body cap: the service measures the file
    big = b" " * (inventory.MAX_SEED_FILE_BYTES + 1)
    over_file = upload(api, logistics, big, "dsc")
    assert over_file.status_code == 413
    assert refusal_code(over_file.text) == "invalid_input.file_size"
    # a declared body over the cap is refused before it is read
    huge = b" " * (BODY_MAX + 1)
    declared = upload(api, logistics, huge, "dsc")
    assert declared.status_code == 413
    assert refusal_code(declared.text) == "invalid_input.file_size"
    # no Content-Length (chunked): the body is counted as it arrives and cut off
    boundary = "sl-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ndsc\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.xml"\r\n'
        "Content-Type: application/xml\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(BODY_MAX // 65536 + 2):
            yield b" " * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = api.post(
        IMPORT,
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413
    assert refusal_code(chunked.text) == "invalid_input.file_size"
    assert stocked(services) == before


def test_R_OPS_3_a_helpdesk_operator_cannot_import_and_nothing_is_stocked(
    api: TestClient, services: Services
) -> None:
    console_login(api, services, "hank", enrol(services, "hank", Role.HELPDESK))
    assert api.get(PAGE).status_code == 403
    home = api.get("/console")
    before = stocked(services)
    refused = upload(api, home.text, write_pskc([dsc("DSC-0001")]), "dsc")
    assert refused.status_code == 403
    assert stocked(services) == before
    hank = Operator(id=0, username="hank", roles=frozenset({Role.HELPDESK}))
    with pytest.raises(AccessDenied):
        inventory.stock_seed_file(
            services,
            hank,
            write_pskc([dsc("DSC-0001")]),
            kind="dsc",
            password=None,
            preshared_key=None,
        )
    with pytest.raises(AccessDenied):
        inventory.stock_overview(services, hank)
    assert stocked(services) == before


def test_R_OPS_3_an_import_without_the_console_csrf_token_is_refused(
    api: TestClient, services: Services, logistics: str
) -> None:
    before = stocked(services)
    forged = upload(api, logistics, write_pskc([dsc("DSC-0001")]), "dsc", token="x" * 43)
    assert forged.status_code == 403
    missing = api.post(
        IMPORT,
        data={"kind": "dsc"},
        files={"file": ("seeds.xml", write_pskc([dsc("DSC-0001")]), "application/xml")},
    )
    assert missing.status_code == 403
    assert stocked(services) == before


def test_R_OPS_3_the_stock_follows_assignment_and_shipping(
    api: TestClient, services: Services, clock: FakeClock, logistics: str
) -> None:
    # a replacement request; NEW_SERIAL in stock
    request_id = replacement_requested(services, clock)
    page = api.get(PAGE)
    assert stock_of(page.text)["dsc_plus"] == (1, 0, 0)
    assigned = api.post(
        "/console/logistics/assign",
        data={"request_id": request_id, "serial": NEW_SERIAL, "csrf_token": csrf_of(page.text)},
    )
    assert stock_of(assigned.text)["dsc_plus"] == (0, 1, 0)
    shipped = api.post(
        "/console/logistics/ship",
        data={"request_id": request_id, "csrf_token": csrf_of(assigned.text)},
    )
    assert stock_of(shipped.text)["dsc_plus"] == (0, 0, 1)
