"""Username enumeration by timing (R-LOGIN-1; issue 12, finding 3): a known username with
a wrong password against an unknown username, on a real ``securelogin serve``.

    python -m bench.enumeration_bench [--db sqlite,postgres] [--tries 100]

For each database: a fresh installation with ``tries`` users, one server (1 worker), one
client.  ``tries`` alternating pairs of ``POST /api/v1/logins`` — a known user (each
only once, so that no lockout interferes) with a wrong password, then a never-seen
username — timed one by one.  Prints one JSON line per database (medians, their
difference, the 90th percentiles) and checks both answers are the same 401.
The issue's target: medians within 2 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx

from bench.fixture import DEFAULT_PG_URL, installation, running_server


def timed_post(client: httpx.Client, username: str) -> tuple[float, int, str]:
    body = {"username": username, "password": "Wrong-Password-9", "platform": "portal"}
    started = time.perf_counter()
    answer = client.post("/api/v1/logins", json=body)
    return time.perf_counter() - started, answer.status_code, answer.json().get("code", "")


def measure(kind: str, *, tries: int, pg_url: str) -> dict[str, object]:
    with (
        installation(kind, users=tries, pg_url=pg_url) as setup,
        running_server(url=setup.url, workers=1, env=setup.env, workdir=setup.workdir) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30) as client,
    ):
        timed_post(client, "warm-up-nobody")  # first request: imports, pools
        known: list[float] = []
        unknown: list[float] = []
        answers: set[tuple[int, str]] = set()
        for i, user in enumerate(setup.users):
            for username, sink in ((user.username, known), (f"nobody-{i:05d}", unknown)):
                seconds, status, code = timed_post(client, username)
                sink.append(seconds * 1000)
                answers.add((status, code))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    return {
        "bench": "enumeration",
        "db": kind,
        "tries": tries,
        "known_ms_median": round(known_median, 2),
        "unknown_ms_median": round(unknown_median, 2),
        "difference_ms": round(known_median - unknown_median, 2),
        "known_ms_p90": round(statistics.quantiles(known, n=10)[-1], 2),
        "unknown_ms_p90": round(statistics.quantiles(unknown, n=10)[-1], 2),
        "answers": sorted(f"{status} {code}" for status, code in answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    for kind in args.db.split(","):
        print(json.dumps(measure(kind, tries=args.tries, pg_url=args.pg_url)), flush=True)


if __name__ == "__main__":
    main()
