"""Human-readable tables from the JSON lines: the best and the median of the repeats."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

KEY = ("bench", "suite", "db", "workers", "measure", "clients")


def group(lines: Iterable[dict[str, Any]]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for line in lines:
        if "measure" in line:
            groups.setdefault(tuple(line.get(k) for k in KEY), []).append(line)
    return groups


def _median(rows: list[dict[str, Any]], name: str) -> float | None:
    values = [r[name] for r in rows if r.get(name) is not None]
    return round(statistics.median(values), 2) if values else None


def _best(rows: list[dict[str, Any]], name: str, *, low: bool = False) -> float | None:
    values = [r[name] for r in rows if r.get(name) is not None]
    if not values:
        return None
    return min(values) if low else max(values)


def cpu_ratios(line: dict[str, Any]) -> dict[str, float]:
    """What the full-login ratio would be without neighbours: the Argon2id CPU per login
    over the server's (+ its database's) CPU per login, and over all CPU per login on
    these cores, the load generator's included (cores / that CPU = logins/s)."""
    argon2_ms, server_ms = line.get("argon2_cpu_ms"), line.get("server_cpu_ms_per_op")
    if not argon2_ms or not server_ms:
        return {}
    server_ms += line.get("db_cpu_ms_per_op") or 0.0
    everything = server_ms + (line.get("client_cpu_ms_per_op") or 0.0)
    return {
        "argon2_share_of_server_cpu": round(argon2_ms / server_ms, 3),
        "cpu_ratio_to_bound": round(argon2_ms / everything, 3),
    }


def summarize(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration: best/median rps, median and best p50/p99, CPU, errors."""
    rows = []
    for key, runs in group(lines).items():
        if dict(zip(KEY, key, strict=True))["measure"] == "full_login":
            runs = [{**r, **cpu_ratios(r)} for r in runs]
        errors = sum(n for r in runs for k, n in r.get("outcomes", {}).items() if k != "ok")
        row = dict(zip(KEY, key, strict=True))
        row.update(
            runs=len(runs),
            count=sum(r["count"] for r in runs),
            errors=errors,
            rps_best=_best(runs, "rps"),
            rps_median=_median(runs, "rps"),
            p50_median=_median(runs, "p50_ms"),
            p99_median=_median(runs, "p99_ms"),
            p99_best=_best(runs, "p99_ms", low=True),
            server_cpu_ms=_median(runs, "server_cpu_ms_per_op"),
            db_cpu_ms=_median(runs, "db_cpu_ms_per_op"),
            client_cpu_ms=_median(runs, "client_cpu_ms_per_op"),
            client_share=_median(runs, "client_cpu_share"),
            server_share=_median(runs, "server_cpu_share"),
            others_share=_median(runs, "others_cpu_share"),
            ratio_best=_best(runs, "ratio_to_bound"),
            ratio_median=_median(runs, "ratio_to_bound"),
            adjacent_median=_median(runs, "ratio_to_adjacent_bound"),
            argon2_share=_median(runs, "argon2_share_of_server_cpu"),
            cpu_ratio=_median(runs, "cpu_ratio_to_bound"),
        )
        rows.append(row)
    return rows


COLUMNS = [
    ("bench", "bench", "{}"),
    ("suite", "suite", "{}"),
    ("db", "db", "{}"),
    ("w", "workers", "{}"),
    ("measure", "measure", "{}"),
    ("C", "clients", "{}"),
    ("n", "count", "{}"),
    ("err", "errors", "{}"),
    ("rps best", "rps_best", "{:.1f}"),
    ("rps med", "rps_median", "{:.1f}"),
    ("p50 ms", "p50_median", "{:.1f}"),
    ("p99 ms", "p99_median", "{:.1f}"),
    ("p99 best", "p99_best", "{:.1f}"),
    ("srv ms/op", "server_cpu_ms", "{:.1f}"),
    ("db ms/op", "db_cpu_ms", "{:.1f}"),
    ("cli ms/op", "client_cpu_ms", "{:.1f}"),
    ("cli share", "client_share", "{:.0%}"),
    ("others", "others_share", "{:.0%}"),
    ("/bound best", "ratio_best", "{:.2f}"),
    ("/bound med", "ratio_median", "{:.2f}"),
    ("/adj. bound med", "adjacent_median", "{:.2f}"),
    ("argon2/srv CPU", "argon2_share", "{:.2f}"),
    ("CPU ratio", "cpu_ratio", "{:.2f}"),
]


def table(lines: Iterable[dict[str, Any]]) -> str:
    """A plain-text table (also valid Markdown)."""
    rows = summarize(lines)
    cells = [[h for h, _, _ in COLUMNS]]
    for row in rows:
        cells.append(
            [fmt.format(row[k]) if row.get(k) is not None else "-" for _, k, fmt in COLUMNS]
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    out = []
    for n, r in enumerate(cells):
        out.append("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
