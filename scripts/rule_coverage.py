"""Which SPEC rules have tests named after them (`test_R_LIMIT_4_...`), and which have none.

    python scripts/rule_coverage.py            # table on stdout
    python scripts/rule_coverage.py --check    # exit 1 when a rule has no test

A test counts for every rule its name cites (``test_R_SHARE_1_and_5_...`` cites both).
The rule list is SPEC.md's, in its order.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

RULES = [
    "R-LOGIN-1",
    "R-LOGIN-2",
    "R-LOGIN-3",
    "R-LOGIN-4",
    "R-LOGIN-5",
    "R-LOGIN-6",
    "R-LOGIN-7",
    "R-LOGIN-8",
    "R-LOGIN-9",
    "R-LOGIN-10",
    "R-LOGIN-11",
    "R-KEY-1",
    "R-KEY-2",
    "R-KEY-3",
    "R-KEY-4",
    "R-KEY-5",
    "R-OPT-1",
    "R-OPT-2",
    "R-OPT-3",
    "R-RESTRICT-1",
    "R-SHARE-1",
    "R-SHARE-2",
    "R-SHARE-3",
    "R-SHARE-4",
    "R-SHARE-5",
    "R-LOST-1",
    "R-LOST-2",
    "R-LOST-3",
    "R-LOST-4",
    "R-RETURN-1",
    "R-RETURN-2",
    "R-RETURN-3",
    "R-RETURN-4",
    "R-CLOSE-1",
    "R-WD-1",
    "R-WD-2",
    "R-WD-3",
    "R-WD-4",
    "R-LIMIT-1",
    "R-LIMIT-2",
    "R-LIMIT-3",
    "R-LIMIT-4",
    "R-LIMIT-5",
    "R-OPS-1",
    "R-OPS-2",
    "R-OPS-3",
    "R-OPS-4",
    "R-OPS-5",
    "R-OPS-6",
]

#: test_R_SHARE_1_and_5_x → SHARE 1, 5; test_R_LOGIN_10_x → LOGIN 10
CITATION = re.compile(r"R_([A-Z]+)_(\d+(?:_(?:and_)?\d+)*)")


def cited(name: str) -> set[str]:
    rules: set[str] = set()
    for family, numbers in CITATION.findall(name):
        for number in re.findall(r"\d+", numbers):
            rules.add(f"R-{family}-{number}")
    return rules


def tests_by_rule(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_"
            ):
                for rule in cited(node.name):
                    found[rule].append(f"{path.relative_to(root.parent)}::{node.name}")
    return found


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent / "tests"
    found = tests_by_rule(root)
    missing = [rule for rule in RULES if not found.get(rule)]
    for rule in RULES:
        print(f"{rule:<13} {len(found.get(rule, [])):>4} tests")
    print(f"\n{len(RULES) - len(missing)} of {len(RULES)} rules have tests named after them")
    if missing:
        print("without a test: " + ", ".join(missing))
    return 1 if missing and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
