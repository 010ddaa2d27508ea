"""Counters per policy: hits, misses, loads, errors, load time; Prometheus and plain."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram

T = TypeVar("T")

HITS = Counter("cache_hits_total", "Reads answered from the cache", ["policy"])
MISSES = Counter("cache_misses_total", "Reads not answered from the cache", ["policy"])
LOADS = Counter("cache_loads_total", "Database loads made by the cache", ["policy"])
COALESCED = Counter(
    "cache_coalesced_total", "Misses that waited for another request's load", ["policy"]
)
NEAR_HITS = Counter(
    "cache_near_hits_total", "Hits answered in process, without a Redis round trip", ["policy"]
)
PATCHED = Counter(
    "cache_patched_total", "Entries a write updated in place instead of dropping", ["policy"]
)
ERRORS = Counter("cache_errors_total", "Cache backend failures (served from the DB)", ["policy"])
LOAD_SECONDS = Histogram(
    "cache_load_seconds",
    "Time of a database load behind the cache",
    ["policy"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BREAKER_OPEN = Gauge("cache_breaker_open", "1 while the cache bypasses an unhealthy backend")


@dataclass
class PolicyStats:
    hits: int = 0
    misses: int = 0
    loads: int = 0
    coalesced: int = 0
    errors: int = 0
    near_hits: int = 0  # of the hits: answered by the near cache (no round trip)
    patched: int = 0  # entries a write stored under its new generation (Cache.finish_write)
    patch_refused: int = 0  # entries a write offered but could not be sure of (dropped)
    load_seconds: float = 0.0


@dataclass
class CacheStats:
    """The same counts as plain numbers, per Cache instance (tests and bench/ read these)."""

    policies: dict[str, PolicyStats] = field(default_factory=lambda: defaultdict(PolicyStats))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, policy: str, what: str, amount: float = 1) -> None:
        with self._lock:
            stats = self.policies[policy]
            setattr(stats, what, getattr(stats, what) + amount)
        metric = {
            "hits": HITS,
            "misses": MISSES,
            "loads": LOADS,
            "coalesced": COALESCED,
            "errors": ERRORS,
            "near_hits": NEAR_HITS,
            "patched": PATCHED,
        }.get(what)
        if metric is not None:
            metric.labels(policy).inc(amount)
        elif what == "load_seconds":
            LOAD_SECONDS.labels(policy).observe(amount)

    def timed_load(self, policy: str, loader: Callable[[], T]) -> T:
        """Run a loader (a read from the database), counted and timed under `policy`."""
        started = time.perf_counter()
        try:
            return loader()
        finally:
            self.count(policy, "loads")
            self.count(policy, "load_seconds", time.perf_counter() - started)

    def total(self, what: str) -> float:
        with self._lock:
            return float(sum(getattr(s, what) for s in self.policies.values()))
