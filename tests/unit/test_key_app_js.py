"""The mobile key web app's JavaScript under Node's built-in test runner (``node --test``):
its OCRA code against every OCRA vector of tests/data/vectors.json (R-KEY-5), and its
wire format (canonical JSON as the server writes it, base64url, DER signatures).

Fails, never skips, when ``node`` is missing: ``make test`` must run these.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from securelogin.domain import push
from securelogin_key import wire

JS_TESTS = Path(__file__).resolve().parents[1] / "js"


def test_R_KEY_5_the_app_ocra_passes_every_vector_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("needs Node.js 18 or newer (apt-get install -y nodejs) for node --test")
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, f"no JavaScript tests under {JS_TESTS}"
    done = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    assert passed is not None and int(passed.group(1)) >= 70, done.stdout[-2000:]


def test_R_KEY_4_the_canonical_json_cases_of_the_js_tests_are_the_servers() -> None:
    """tests/js/canonical_cases.json holds what the server and the terminal key sign;
    tests/js/wire.test.mjs checks the app writes the same bytes."""
    cases = json.loads((JS_TESTS / "canonical_cases.json").read_text(encoding="utf-8"))
    assert len(cases) >= 5
    for case in cases:
        expected = case["canonical"].encode("utf-8")
        assert push.canonical_json(case["value"]) == expected
        assert wire.canonical_json(case["value"]) == expected
