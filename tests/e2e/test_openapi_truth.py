"""Strict amounts and an OpenAPI document that says what the server enforces (SPEC §10.2
"Amounts are JSON strings …"; issue 12, finding 5).  SQLite only: nothing here depends
on the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from securelogin.bootstrap import bootstrap
from securelogin.domain.money import AMOUNT_PATTERN, MoneyError, parse_amount_text
from securelogin.entrypoints.api.app import create_app
from securelogin.service.context import Services
from tests.conftest import make_settings
from tests.fakes import FakeClock
from tests.withdrawal_kit import ACCOUNT, bearer, load, session_token

#: JSON values the issue's attack run got accepted as amounts, and their neighbours
NOT_AMOUNTS: list[Any] = [
    True,
    False,
    None,
    100,
    1.5,
    [],
    {},
    "1_000",
    "1e3",
    "５",
    "١٠",
    " 5",
    "5 ",
    "5\n",
    "+5",
    "-5",
    "1.",
    ".5",
    "1.234",
    "0x10",
    "1,000.00",
    "1234567890123456",
    "",
]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    wired = bootstrap(make_settings(f"sqlite:///{tmp_path}/o.db"), migrate=True, clock=FakeClock())
    yield wired
    wired.database.close()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.mark.parametrize("value", NOT_AMOUNTS)
def test_SPEC_10_2_only_digit_strings_with_two_decimals_are_amounts(value: Any) -> None:
    with pytest.raises(MoneyError):
        parse_amount_text(value)


@pytest.mark.parametrize("value", ["1", "0.5", "123.45", "999999999999.99"])
def test_SPEC_10_2_amount_strings_as_the_spec_writes_them_are_read(value: str) -> None:
    assert str(parse_amount_text(value)) == f"{float(value):.2f}"


def test_SPEC_10_2_the_api_refuses_every_other_json_value_as_invalid_input_amount(
    services: Services, app: FastAPI
) -> None:
    load(services, {"petra": ["dsc_plus"]})
    token = session_token(services, "petra", "dsc_plus")
    with TestClient(app) as api:
        for i, value in enumerate(NOT_AMOUNTS):
            answer = api.post(
                "/api/v1/withdrawals",
                json={"account": ACCOUNT, "amount": value, "destination": "Chase ****1234"},
                headers=bearer(token) | {"Idempotency-Key": f"k-{i}"},
            )
            assert answer.status_code == 422, (value, answer.json())
            assert (answer.json()["code"], answer.json()["field"]) == ("invalid_input", "amount")
        fine = api.post(
            "/api/v1/withdrawals",
            json={"account": ACCOUNT, "amount": "10.50", "destination": "Chase ****1234"},
            headers=bearer(token) | {"Idempotency-Key": "k-fine"},
        )
    assert fine.status_code == 201, fine.json()


def test_SPEC_10_2_the_idempotency_key_is_required_and_1_to_100_characters_as_documented(
    services: Services, app: FastAPI
) -> None:
    load(services, {"petra": ["dsc_plus"]})
    token = session_token(services, "petra", "dsc_plus")
    body = {"account": ACCOUNT, "amount": "1.00", "destination": "x"}
    with TestClient(app) as api:
        [parameter] = [
            p
            for p in api.get("/openapi.json").json()["paths"]["/api/v1/withdrawals"]["post"][
                "parameters"
            ]
            if p["name"].lower() == "idempotency-key"
        ]
        assert parameter["required"] is True
        assert (parameter["schema"]["minLength"], parameter["schema"]["maxLength"]) == (1, 100)
        for key in (b"", b"k" * 101, "ké".encode("latin-1")):
            headers: dict[str, str | bytes] = {**bearer(token)}
            if key:
                headers["Idempotency-Key"] = key
            refused = api.post("/api/v1/withdrawals", json=body, headers=headers)
            assert refused.status_code == 422 and refused.json()["field"] == "idempotency_key"
        taken = api.post(
            "/api/v1/withdrawals", json=body, headers=bearer(token) | {"Idempotency-Key": "k" * 100}
        )
    assert taken.status_code == 201


def test_SPEC_10_2_the_amount_schema_is_the_pattern_the_server_checks(app: FastAPI) -> None:
    with TestClient(app) as api:
        schemas = api.get("/openapi.json").json()["components"]["schemas"]
    amount = schemas["WithdrawalRequestIn"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == AMOUNT_PATTERN


def test_SPEC_10_2_a_405_says_in_allow_which_methods_the_path_answers(app: FastAPI) -> None:
    with TestClient(app) as client:
        post_only = client.request("PUT", "/api/v1/logins")
        get_only = client.request("PATCH", "/api/v1/logins/some-login")
    assert post_only.status_code == 405 and post_only.json()["code"] == "method_not_allowed"
    assert post_only.headers["allow"] == "POST"
    assert get_only.status_code == 405 and get_only.headers["allow"] == "GET"


def test_SPEC_10_2_a_405_names_every_method_of_a_path_two_routes_share(app: FastAPI) -> None:
    with TestClient(app) as client:
        both = client.request("OPTIONS", "/api/v1/returns")
        one = client.request("DELETE", "/api/v1/share-requests")
        static = client.request("POST", "/static/portal.css")
    assert both.status_code == 405 and both.headers["allow"] == "GET, POST"
    assert one.status_code == 405 and one.headers["allow"] == "GET, POST"
    assert static.status_code == 405 and static.headers["allow"] == "GET, HEAD"  # its own


def test_SPEC_10_2_a_documented_path_allows_its_own_methods_not_a_templates(
    app: FastAPI,
) -> None:
    """``DELETE /api/v1/passkeys/{device_id}`` matches ``…/registrations`` too, but the
    registrations resource answers POST only (Schemathesis's ST205 found it)."""
    with TestClient(app) as client:
        options = client.request("OPTIONS", "/api/v1/passkeys/registrations")
        templated = client.request("PUT", "/api/v1/passkeys/some-device")
    assert options.status_code == 405 and options.headers["allow"] == "POST"
    assert templated.status_code == 405 and templated.headers["allow"] == "DELETE"


def test_R_KEY_1_the_activation_code_call_takes_phone_id_or_phone_as_its_schema_says(
    app: FastAPI,
) -> None:
    with TestClient(app) as api:
        schema = api.get("/openapi.json").json()["components"]["schemas"]["CodeRequest"]
        assert [branch["required"] for branch in schema["oneOf"]] == [
            ["phone_id"],
            ["phone", "country"],
        ]
        url = "/api/v1/key/activations/nope/code"
        both = api.post(url, json={"phone_id": "p1", "phone": "+4915112345678", "country": "DE"})
        neither = api.post(url, json={})
        null = api.post(url, json={"phone_id": None, "phone": "+4915112345678", "country": "DE"})
        one = api.post(url, json={"phone_id": "p1"})
    assert both.status_code == neither.status_code == 422
    assert null.status_code == 422 and null.json()["field"] == "phone_id"
    assert one.status_code == 404  # the rule holds; the activation does not exist
