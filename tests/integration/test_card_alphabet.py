"""Code cards after the look-alike rule (SPEC §2): new cards carry none of
``0 O 1 I L 2 Z 5 S 8 B``; cards issued earlier from ``A–Z0–9`` keep logging in, and
answers are compared without regard to case."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from securelogin.domain.cards import LOOK_ALIKES
from securelogin.service.context import Services
from securelogin.service.lifecycle import cards
from tests.devices import PASSWORD, Brokerage

#: a card printed before the rule: every look-alike on it
OLD_CARD = {str(p): ("O0I", "1LZ", "2S5", "8BO")[p % 4] for p in range(1, 201)}


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The rule lives in the domain and the login; one storage engine is enough."""
    return sqlite_url


def answer_card(api: TestClient, values: dict[str, str], *, lower: bool) -> Any:
    started = api.post("/api/v1/logins", json={"username": "ada", "password": PASSWORD}).json()
    first, second = started["factor"]["prompt"]["indices"]
    answer = values[str(first)] + " " + values[str(second)]
    response = answer.lower() if lower else answer
    done = api.post(f"/api/v1/logins/{started['login_id']}/answer", json={"response": response})
    return done.json()


def test_SPEC_2_a_card_issued_before_the_look_alike_rule_still_logs_in_in_any_case(
    services: Services, api: TestClient
) -> None:
    Brokerage().user("ada", {"kind": "code_card", "serial": "SCC-OLD1", "values": OLD_CARD}).load(
        services
    )
    assert answer_card(api, OLD_CARD, lower=True)["session"]["tier"]["device_kind"] == "code_card"
    assert answer_card(api, OLD_CARD, lower=False)["session"]["access_level"] == "full"


def test_SPEC_2_a_newly_issued_card_has_no_look_alikes_and_logs_in_in_lower_case(
    services: Services, api: TestClient
) -> None:
    Brokerage().user("ada", phone=None).load(services)
    issued = cards.issue_code_card(services, username="ada", actor="ops")
    assert not LOOK_ALIKES & set("".join(issued.values.values()))
    values = {str(p): v for p, v in issued.values.items()}
    assert answer_card(api, values, lower=True)["session"]["tier"]["device_kind"] == "code_card"
