"""The import file's rules (SPEC §10.3), checked before anything is written."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from securelogin.domain.devices.catalogue import DeviceKind
from securelogin.domain.importfile import Existing, ImportProblem, plan_import

SAMPLE = yaml.safe_load((Path(__file__).parents[1] / "data" / "spec-sample.yaml").read_text())


def plan(data: object, existing: Existing | None = None) -> Any:
    return plan_import(data, common_passwords={"password1"}, existing=existing or Existing())


def broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    edit(data)
    return data


def test_the_spec_sample_is_a_valid_plan() -> None:
    result = plan(SAMPLE)
    assert [u.username for u in result.users] == ["alice", "bob"]
    alice = result.users[0]
    assert [d.kind for d in alice.devices] == [
        DeviceKind.DSC,
        DeviceKind.DSC_PLUS,
        DeviceKind.PLATINUM_CARD,
        DeviceKind.CODE_CARD,
        DeviceKind.SMS,
        DeviceKind.TOTP_APP,
    ]
    assert alice.devices[1].pin == "1234"
    assert alice.devices[3].card_values[2] == "Z3V"
    assert alice.devices[5].secret == b"Hello!\xde\xad\xbe\xef"
    assert str(result.accounts[1].cash) == "567.89"


CASES = [
    (
        "unknown entity reference",
        lambda d: d["users"][0].update(entity="E-404"),
        "users[0] (alice)",
        "entity",
    ),
    (
        "duplicate username",
        lambda d: d["users"][1].update(username="Alice"),
        "users[1] (alice)",
        "username",
    ),
    (
        "invalid date",
        lambda d: d["entities"][0]["identification"].update(date_of_birth="1980-02-30"),
        "entities[0] (E-1)",
        "identification.date_of_birth",
    ),
    (
        "bad phone number",
        lambda d: d["users"][0].update(phone="555-1234"),
        "users[0] (alice)",
        "phone",
    ),
    (
        "unknown device kind",
        lambda d: d["users"][0]["devices"][0].update(kind="yubikey"),
        "users[0] (alice)",
        "devices[0].kind",
    ),
    (
        "non-numeric cash",
        lambda d: d["accounts"][0].update(cash="lots"),
        "accounts[0] (U1000001)",
        "cash",
    ),
    (
        "over-precise cash",
        lambda d: d["accounts"][0].update(cash="1.001"),
        "accounts[0] (U1000001)",
        "cash",
    ),
    (
        "unknown account in grant",
        lambda d: d["users"][0]["grants"][0].update(account="U9"),
        "users[0] (alice)",
        "grants[0].account",
    ),
    (
        "unknown right",
        lambda d: d["users"][0]["grants"][0].update(rights=["fly"]),
        "users[0] (alice)",
        "grants[0].rights",
    ),
    (
        "duplicate serial",
        lambda d: d["users"][1]["devices"][0].update(serial="DSC-0001"),
        "users[1] (bob)",
        "devices[0].serial",
    ),
    (
        "short seed",
        lambda d: d["users"][0]["devices"][0].update(secret_hex="3132"),
        "users[0] (alice)",
        "devices[0].secret_hex",
    ),
    (
        "bad DSC+ PIN",
        lambda d: d["users"][0]["devices"][1].update(pin="12a4"),
        "users[0] (alice)",
        "devices[1].pin",
    ),
    (
        "bad card value",
        lambda d: d["users"][0]["devices"][3]["values"].update({"1": "A3"}),
        "users[0] (alice)",
        "devices[3].values",
    ),
    (
        "common password",
        lambda d: d["users"][0].update(password="Password1"),
        "users[0] (alice)",
        "password",
    ),
    (
        "mobile key cannot be imported",
        lambda d: d["users"][0]["devices"][0].update(kind="mobile_key"),
        "users[0] (alice)",
        "devices[0].kind",
    ),
    ("unknown section", lambda d: d.update(operators=[]), "(file)", "operators"),
]


@pytest.mark.parametrize(("case", "edit", "entry", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_entry_is_named_with_its_field(case: str, edit: Any, entry: str, field: str) -> None:
    with pytest.raises(ImportProblem) as caught:
        plan(broken(edit))
    assert (caught.value.entry, caught.value.field) == (entry, field)
    assert str(caught.value).startswith(f"{entry}: {field}: ")


def test_keys_that_already_exist_in_the_database_are_refused() -> None:
    with pytest.raises(ImportProblem, match=r"username 'alice' already exists"):
        plan(SAMPLE, Existing(usernames=frozenset({"alice"})))
    with pytest.raises(ImportProblem, match=r"serial 'GOLD-0001' already exists"):
        plan(SAMPLE, Existing(serials=frozenset({"GOLD-0001"})))


def test_references_to_entities_already_in_the_database_are_allowed() -> None:
    data = broken(lambda d: d["users"][0].update(entity="E-OLD"))
    result = plan(data, Existing(entity_ids=frozenset({"E-OLD"})))
    assert result.users[0].entity_ref == "E-OLD"
