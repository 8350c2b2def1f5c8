"""securelogin next to privacyIDEA on this machine, in the same run.

    python -m bench.privacyidea_compare [--repeat R] [--seconds S] [--answers A]

privacyIDEA 3.14 is only *called*: the scripts in ``shared/peers/privacyidea`` install it
from PyPI into ``$HOME/.cache/securelogin-peers/pi-venv`` (install.sh), enrol users and
tokens (enroll.py), run gunicorn with 2 workers on 127.0.0.1:5001 (start.sh/stop.sh) and
load ``/validate/check`` (load.py).  Nothing of privacyIDEA is copied into this project.

Both servers stay up side by side (SQLite, 2 workers each), and each repeat measures one,
then the other, so that both see the same neighbours on this shared machine:

* privacyIDEA ``hotp_ok`` (an HOTP check) against securelogin ``answer`` (the second
  factor: OCRA check, lock counters, single-use guard, session and audit chain);
* privacyIDEA ``pin_ok`` (PIN + HOTP in one request) against securelogin ``full_login``
  (password step + answer, two requests).

If privacyIDEA cannot be installed (no network), the figures of the peer's README are
used instead and marked ``"remeasured": false``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import report
from bench.fixture import DEFAULT_PG_URL, installation, running_server
from bench.login_bench import Bench, argon2_cost

PEER = Path(os.environ.get("SECURELOGIN_PI_PEER", "/work/shared/peers/privacyidea"))
PI_VENV = Path(os.environ.get("PI_VENV", Path.home() / ".cache/securelogin-peers/pi-venv"))
PI_DATA = Path(os.environ.get("PI_DATA", Path.home() / ".cache/securelogin-peers/pi-data"))
PI_PYTHON = PI_VENV / "bin" / "python"

#: peers/privacyidea/README.md, "default (signed SQL audit)": rps, p50, p99, CPU ms/request
README_FIGURES = [
    ("hotp_check", 1, 20.5, 46.7, 76.7, 41.0),
    ("hotp_check", 4, 28.9, 126.0, 379.0, 43.0),
    ("pin_hotp_check", 4, 3.1, 1297.0, 1835.0, 459.0),
]
PI_MEASURES = {"hotp_ok": "hotp_check", "pin_ok": "pin_hotp_check"}
#: (securelogin measure, privacyIDEA measure, clients)
PAIRS = [
    ("answer", "hotp_check", 1),
    ("answer", "hotp_check", 4),
    ("full_login", "pin_hotp_check", 4),
]


def _script(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(PEER / name), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return done.stdout


def ensure_peer() -> str | None:
    """Install and enrol privacyIDEA once; the reason when it is not available."""
    if not (PEER / "load.py").exists():
        return f"{PEER} is missing"
    try:
        if not PI_PYTHON.exists() or not (PI_DATA / "pi.cfg").exists():
            print("# installing privacyIDEA (install.sh)", file=sys.stderr)
            _script("install.sh")
        if not (PI_DATA / "bench_tokens.json").exists():
            print("# enrolling privacyIDEA tokens (enroll.py)", file=sys.stderr)
            _script("start.sh")
            try:
                subprocess.run([str(PI_PYTHON), str(PEER / "enroll.py")], check=True, timeout=1800)
            finally:
                _script("stop.sh")
    except (subprocess.SubprocessError, OSError) as exc:
        return f"privacyIDEA could not be installed or enrolled: {exc}"
    return None


def pi_load(scenario: str, clients: int, *, seconds: float, run: int) -> dict[str, Any]:
    """One load.py run, in this report's shape."""
    args = ["--scenario", scenario, "--concurrency", str(clients), "--seconds", str(seconds)]
    args += ["--requests", "100000", "--label", "compare", "--data", str(PI_DATA)]
    done = subprocess.run(
        [str(PI_PYTHON), str(PEER / "load.py"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    outcomes = {("ok" if k == "ACCEPT" else k): v for k, v in raw["outcomes"].items()}
    return {
        "bench": "privacyidea",
        "suite": "compare",
        "db": "sqlite",
        "workers": 2,
        "measure": PI_MEASURES[scenario],
        "clients": clients,
        "run": run,
        "count": raw["requests"],
        "seconds": raw["seconds"],
        "rps": raw["rps"],
        "p50_ms": raw["p50_ms"],
        "p90_ms": raw["p90_ms"],
        "p99_ms": raw["p99_ms"],
        "max_ms": raw["max_ms"],
        "outcomes": outcomes,
        "server_cpu_ms_per_op": raw["server_cpu_ms_per_req"],
        "client_cpu_ms_per_op": raw["client_cpu_ms_per_req"],
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "remeasured": True,
    }


def readme_lines() -> list[dict[str, Any]]:
    return [
        {
            "bench": "privacyidea",
            "suite": "compare",
            "db": "sqlite",
            "workers": 2,
            "measure": measure,
            "clients": c,
            "run": 0,
            "count": 0,
            "rps": rps,
            "p50_ms": p50,
            "p99_ms": p99,
            "server_cpu_ms_per_op": cpu,
            "outcomes": {},
            "remeasured": False,
        }
        for measure, c, rps, p50, p99, cpu in README_FIGURES
    ]


def ratios(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """securelogin / privacyIDEA for rps (higher is better for securelogin), and
    privacyIDEA / securelogin for p50 and server CPU per operation: one row per round
    (``run`` ≥ 1: both measured in the same window of the shared machine) and a row of
    the medians of those per-round ratios (``run`` = ``"median"``).  The README's
    figures (``run`` 0, when privacyIDEA could not be installed) give one row of their own."""

    def value(bench: str, measure: str, clients: int, run: int, name: str) -> float | None:
        for x in lines:
            if (x.get("bench"), x.get("measure"), x.get("clients"), x.get("run")) == (
                bench,
                measure,
                clients,
                run,
            ):
                return x.get(name)
        return None

    runs = sorted({int(x["run"]) for x in lines if x.get("bench") == "securelogin"})
    peer_runs = {x.get("run") for x in lines if x.get("bench") == "privacyidea"}
    out = []
    for ours, theirs, c in PAIRS:
        per_round = []
        for run in runs:
            theirs_run = run if run in peer_runs else 0  # the README's figures: run 0
            row: dict[str, Any] = {"bench": "ratio", "securelogin": ours, "privacyidea": theirs}
            row.update(clients=c, run=run)
            for name, flip in (("rps", False), ("p50_ms", True), ("server_cpu_ms_per_op", True)):
                a = value("securelogin", ours, c, run, name)
                b = value("privacyidea", theirs, c, theirs_run, name)
                if a and b:
                    row[f"{name}_ratio"] = round(b / a if flip else a / b, 2)
                    row[f"securelogin_{name}"], row[f"privacyidea_{name}"] = a, b
            per_round.append(row)
        out.extend(per_round)
        median: dict[str, Any] = {"bench": "ratio", "securelogin": ours, "privacyidea": theirs}
        median.update(clients=c, run="median")
        for name in ("rps_ratio", "p50_ms_ratio", "server_cpu_ms_per_op_ratio"):
            values = [r[name] for r in per_round if name in r]
            if values:
                median[name] = round(statistics.median(values), 2)
        out.append(median)
    return out


def compare(*, repeat: int, seconds: float, answers: int, users: int) -> list[dict[str, Any]]:
    missing = ensure_peer()
    cost = argon2_cost()
    lines: list[dict[str, Any]] = [{"bench": "argon2", **cost}]
    print(json.dumps(lines[0]), flush=True)
    labels = {"suite": "compare", "db": "sqlite", "workers": 2}
    labels["argon2_ms"] = cost["argon2_ms_median"]
    with (
        installation("sqlite", users=users, pg_url=DEFAULT_PG_URL) as inst,
        running_server(url=inst.url, workers=2, env=inst.env, workdir=inst.workdir) as server,
    ):
        ours = Bench(server, inst.users, labels)
        asyncio.run(ours.warm_up())
        if missing is None:
            _script("stop.sh")
            _script("start.sh", env={"PI_WORKERS": "2"})
        try:
            if missing is None:
                pi_load("hotp_ok", 1, seconds=3, run=0)  # warm-up, not reported
            for run in range(1, repeat + 1):
                if missing is None:
                    for scenario, c in (("hotp_ok", 1), ("hotp_ok", 4), ("pin_ok", 4)):
                        line = pi_load(scenario, c, seconds=seconds, run=run)
                        print(json.dumps(line), flush=True)
                        lines.append(line)
                for c in (1, 4):
                    asyncio.run(ours.answers(c, answers, run))
                asyncio.run(ours.full_logins(4, seconds, run, cost["argon2_bound_rps"]))
        finally:
            if missing is None:
                _script("stop.sh")
        lines.extend(ours.lines)
    if missing is not None:
        print(f"# {missing}; using the README figures (not re-measured)", file=sys.stderr)
        lines.extend(readme_lines())
    for row in ratios(lines):
        print(json.dumps(row), flush=True)
        lines.append(row)
    return lines


def ratio_table(lines: list[dict[str, Any]]) -> str:
    rows = [x for x in lines if x.get("bench") == "ratio"]
    head = "| securelogin | privacyIDEA | C | round | rps SL/PI | p50 PI/SL | server CPU/op PI/SL |"
    out = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r.get(k, "-") for k in ("rps_ratio", "p50_ms_ratio", "server_cpu_ms_per_op_ratio")]
        out.append(
            f"| {r['securelogin']} | {r['privacyidea']} | {r['clients']} | {r['run']} | "
            + " | ".join(str(c) for c in cells)
            + " |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.privacyidea_compare", description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--answers", type=int, default=600)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--json-out", help="also append the JSON lines to this file")
    a = ap.parse_args(argv)
    lines = compare(repeat=a.repeat, seconds=a.seconds, answers=a.answers, users=a.users)
    if a.json_out:
        with open(a.json_out, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(line) + "\n" for line in lines)
    print(report.table(lines))
    print()
    print(ratio_table(lines))


if __name__ == "__main__":
    main()
