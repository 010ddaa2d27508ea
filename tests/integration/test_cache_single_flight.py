"""Single flight: many concurrent misses of one key ask the database once, in one process
(threads waiting on the first loader) and across processes (a short Redis lock); and the
wait is bounded when the loader hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from app.cache import keys
from app.cache import policy as policies
from app.cache.backends import Backend, RedisBackend
from app.cache.readthrough import Cache
from app.domain import queries
from app.domain.views import FeedPage

if TYPE_CHECKING:
    from tests.support.cache import SqlCounter
    from tests.support.factory import Factory


KEY = keys.LEADERBOARD.key("top", "stampede", 50)


class CountingLoader:
    """A slow database stand-in that counts its calls."""

    def __init__(self, delay_s: float = 0.3, value: Any = None) -> None:
        self.delay_s = delay_s
        self.value = value if value is not None else {"rows": list(range(50))}
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_s)
        return self.value


def stampede(caches: list[Cache], per_cache: int, loader: Callable[[], Any]) -> list[Any]:
    """`per_cache` threads per Cache, released together by a barrier, all missing KEY."""
    total = len(caches) * per_cache
    barrier = threading.Barrier(total)

    def one(cache: Cache) -> Any:
        barrier.wait(10)
        return cache.get_or_load(KEY, policies.LEADERBOARD, loader, dict[str, list[int]])

    with ThreadPoolExecutor(max_workers=total) as pool:
        futures = [pool.submit(one, c) for c in caches for _ in range(per_cache)]
        return [f.result(timeout=30) for f in futures]


# Generous waits in the stampede tests: they check coalescing, not the bound on the wait
# (tested below), and must not flake on a loaded machine.
PATIENT_S = 10.0


def test_200_concurrent_misses_load_once(backend: Backend) -> None:
    cache = Cache(backend, wait_s=PATIENT_S)
    loader = CountingLoader()
    started = time.monotonic()
    results = stampede([cache], 200, loader)
    elapsed = time.monotonic() - started
    assert loader.calls == 1, f"{loader.calls} loads for one key"
    assert all(r == loader.value for r in results)
    stats = cache.stats.policies["leaderboard"]
    assert stats.loads == 1 and stats.errors == 0
    assert stats.hits + stats.misses == 200
    assert elapsed < 8, f"the stampede took {elapsed:.1f} s"


@pytest.mark.integration
def test_two_processes_sharing_redis_load_once(redis_url: str) -> None:
    """Two Cache instances (two app processes) with 100 threads each: one load in total."""
    first = Cache(RedisBackend(redis_url), wait_s=PATIENT_S)
    second = Cache(RedisBackend(redis_url), wait_s=PATIENT_S)
    loader = CountingLoader(delay_s=0.3)
    started = time.monotonic()
    results = stampede([first, second], 100, loader)
    elapsed = time.monotonic() - started
    assert loader.calls == 1, f"{loader.calls} loads across two processes"
    assert all(r == loader.value for r in results)
    assert first.stats.total("errors") + second.stats.total("errors") == 0
    assert elapsed < 8, f"waiters were not released promptly ({elapsed:.1f} s)"


@pytest.mark.integration
def test_waiting_on_another_process_is_bounded(redis_url: str) -> None:
    """If the process holding the lock hangs, the others load themselves after wait_s."""
    holder = Cache(RedisBackend(redis_url))
    waiter = Cache(RedisBackend(redis_url), wait_s=0.3)
    release = threading.Event()
    hung_calls: list[int] = []

    def hung() -> dict[str, list[int]]:
        hung_calls.append(1)
        release.wait(10)
        return {"rows": [0]}

    t = threading.Thread(
        target=holder.get_or_load, args=(KEY, policies.LEADERBOARD, hung, dict[str, list[int]])
    )
    t.start()
    try:
        deadline = time.monotonic() + 5
        while not hung_calls and time.monotonic() < deadline:
            time.sleep(0.005)
        assert hung_calls, "the holder never started loading"
        started = time.monotonic()
        value = waiter.get_or_load(
            KEY, policies.LEADERBOARD, lambda: {"rows": [1]}, dict[str, list[int]]
        )
        waited = time.monotonic() - started
    finally:
        release.set()
        t.join(10)
    assert value == {"rows": [1]}
    assert 0.25 <= waited < 1.5, f"waited {waited:.2f} s for a hung loader (wait_s=0.3)"


def test_waiting_on_a_hung_thread_is_bounded(backend: Backend) -> None:
    cache = Cache(backend, wait_s=0.3)
    release, started = threading.Event(), threading.Event()

    def hung() -> dict[str, list[int]]:
        started.set()
        release.wait(10)
        return {"rows": [0]}

    t = threading.Thread(
        target=cache.get_or_load, args=(KEY, policies.LEADERBOARD, hung, dict[str, list[int]])
    )
    t.start()
    try:
        assert started.wait(5)
        t0 = time.monotonic()
        value = cache.get_or_load(
            KEY, policies.LEADERBOARD, lambda: {"rows": [1]}, dict[str, list[int]]
        )
        waited = time.monotonic() - t0
    finally:
        release.set()
        t.join(10)
    assert value == {"rows": [1]}
    assert 0.25 <= waited < 1.5


def test_a_failing_loader_does_not_poison_the_waiters(backend: Backend) -> None:
    """The leader's exception reaches the leader; waiters load themselves, nothing cached."""
    cache = Cache(backend)
    calls: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def flaky() -> dict[str, list[int]]:
        with lock:
            calls.append(1)
            first = len(calls) == 1
        time.sleep(0.1)
        if first:
            raise RuntimeError("database hiccup")
        return {"rows": [2]}

    def one() -> Any:
        barrier.wait(10)
        try:
            return cache.get_or_load(KEY, policies.LEADERBOARD, flaky, dict[str, list[int]])
        except RuntimeError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [f.result(30) for f in [pool.submit(one) for _ in range(20)]]
    errors = [r for r in results if isinstance(r, RuntimeError)]
    assert len(errors) == 1, "only the leader sees its own loader's error"
    assert all(r == {"rows": [2]} for r in results if not isinstance(r, RuntimeError))


def test_stampede_on_a_real_query_runs_its_sql_once(
    cached_factory: Factory, count_sql: type[SqlCounter]
) -> None:
    db = cached_factory.db
    db.cache.wait_s = PATIENT_S
    members = cached_factory.members(3, balance=100)
    barrier = threading.Barrier(50)

    def one() -> FeedPage:
        barrier.wait(10)
        return queries.feed_page(db)

    with count_sql(db) as sql:
        single = queries.feed_page(db)
        one_load = sql.count
        db.cache.invalidate(keys.FEED)
        sql.reset()
        with ThreadPoolExecutor(max_workers=50) as pool:
            pages = [f.result(30) for f in [pool.submit(one) for _ in range(50)]]
    assert all(p == single for p in pages)
    assert len(single.items) == len(members)
    # One load's worth of statements, and not a second one (SQLite's BEGIN included).
    assert sql.count <= one_load, f"{sql.count} statements for 50 concurrent misses"
