"""A bounded asyncio + httpx load generator (the shape of peers/privacyidea/load.py).

``C`` tasks share one keep-alive connection pool of ``C`` connections and pull work
items from one iterator until it runs dry, ``max_items`` were started or the deadline
passed.  Each item is one *operation* (one request, or a password step plus an answer);
its latency is measured around the whole operation.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

#: an operation returns an outcome label ("ok" when it did what it should)
Operation = Callable[[httpx.AsyncClient, Any], Awaitable[str]]
#: CPU seconds used so far by some set of processes (the server, its database, ...)
CpuProbe = Callable[[], float]


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    operations: int
    seconds: float
    latencies: list[float]
    outcomes: dict[str, int]
    #: CPU seconds during the run: "client" (this process), "machine" (all cores busy
    #: time, everyone's), and one entry per probe ("server", "db")
    cpu: dict[str, float]

    def summary(self) -> dict[str, Any]:
        """rps, latency percentiles (ms), CPU per operation and CPU shares of the machine."""
        lat, n, cores = sorted(self.latencies), max(1, self.operations), os.cpu_count() or 1
        wall = max(self.seconds, 1e-9)
        out: dict[str, Any] = {
            "count": self.operations,
            "seconds": round(self.seconds, 3),
            "rps": round(self.operations / wall, 1),
            "p50_ms": percentile_ms(lat, 0.50),
            "p90_ms": percentile_ms(lat, 0.90),
            "p99_ms": percentile_ms(lat, 0.99),
            "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None,
            "outcomes": dict(sorted(self.outcomes.items())),
        }
        for name, used in self.cpu.items():
            if name != "machine":
                out[f"{name}_cpu_ms_per_op"] = round(used * 1000 / n, 2)
            out[f"{name}_cpu_share"] = round(used / (wall * cores), 3)
        ours = sum(v for k, v in self.cpu.items() if k != "machine")
        if "machine" in self.cpu:
            # what other people's processes took from the same cores meanwhile
            others = max(0.0, self.cpu["machine"] - ours)
            out["others_cpu_share"] = round(others / (wall * cores), 3)
        out["loadavg_1m"] = round(os.getloadavg()[0], 2)
        return out


def percentile_ms(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, -(-int(p * 1000) * len(ordered) // 1000))  # ceil(p * n) without floats
    return round(ordered[min(rank, len(ordered)) - 1] * 1000, 2)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """Busy CPU seconds of all cores since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user..steal, without idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def read_cpu(probes: Mapping[str, CpuProbe]) -> dict[str, float]:
    found = {"client": own_cpu(), "machine": machine_busy()}
    found.update({name: probe() for name, probe in probes.items()})
    return found


async def drive(
    base_url: str,
    operation: Operation,
    items: Iterable[Any],
    *,
    concurrency: int,
    seconds: float | None = None,
    max_items: int | None = None,
    probes: Mapping[str, CpuProbe] | None = None,
) -> LoadResult:
    """Run ``operation`` over ``items`` with at most ``concurrency`` in flight."""
    source: Iterator[Any] = iter(items)
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    started_items = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        deadline = None if seconds is None else time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal started_items
            while deadline is None or time.perf_counter() < deadline:
                if max_items is not None and started_items >= max_items:
                    return
                item = next(source, None)
                if item is None:
                    return
                started_items += 1
                t0 = time.perf_counter()
                try:
                    outcome = await operation(client, item)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                latencies.append(time.perf_counter() - t0)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        before, t0 = read_cpu(probes or {}), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, after = time.perf_counter() - t0, read_cpu(probes or {})
    return LoadResult(
        operations=len(latencies),
        seconds=elapsed,
        latencies=latencies,
        outcomes=outcomes,
        cpu={name: after[name] - before[name] for name in before},
    )
