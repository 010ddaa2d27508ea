"""What every process hears of a write (app/cache/changes.py), on both backends.

The live pushes (state/live.py) rest on this: a write's generation bumps, heard through
Redis pub/sub (or the in-process backend's listeners), name exactly the shared families
and the members the write changed.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

import pytest

from app.cache.backends import MemoryBackend, RedisBackend
from app.cache.changes import Changes, listen_redis
from app.cache.keys import EPOCH_KEY, FEED, history, profile
from app.cache.readthrough import Cache
from app.domain.db import Database
from app.domain.market import buy
from app.domain.transfers import transfer

if TYPE_CHECKING:
    from tests.support.factory import Factory


def test_generation_keys_read_as_families_and_members() -> None:
    changes = Changes()
    changes.add_message(f"{FEED.generation_key}=17".encode())
    changes.add_message(f"{profile(42).generation_key}=3")
    changes.add_key(history(7).generation_key)
    changes.add_key("someone else's key")
    assert changes.shared == {"feed"}
    assert changes.members == {42, 7}
    assert not changes.everything
    assert changes.touches({"feed", "market"}) and not changes.touches({"market"})
    everything = Changes()
    everything.add_key(EPOCH_KEY)
    assert everything.everything and everything.touches({"market"})
    assert not Changes()


class Heard:
    """Changes collected from a listener, waited for by condition."""

    def __init__(self) -> None:
        self.changes = Changes()
        self.batches = 0
        self._cond = threading.Condition()

    def __call__(self, changes: Changes) -> None:
        with self._cond:
            self.changes.merge(changes)
            self.batches += 1
            self._cond.notify_all()

    def wait_for(self, predicate, timeout_s: float = 10.0) -> Changes:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.changes), timeout_s), self.changes
            return self.changes

    def reset(self) -> None:
        with self._cond:
            self.changes = Changes()


def _write_and_hear(cached_factory: Factory, heard: Heard) -> None:
    db = cached_factory.db
    alice = cached_factory.member("alice", first_name="Alice", balance=500)
    bob = cached_factory.member("bob", first_name="Bob", balance=100)
    carol = cached_factory.member("carol", first_name="Carol", balance=100)
    item = cached_factory.item(price=5, stock=3)
    heard.reset()

    transfer(db, alice.id, "@bob", 25, "lunch", cached_factory.key())
    got = heard.wait_for(lambda c: {alice.id, bob.id} <= c.members and "feed" in c.shared)
    assert "leaderboard" in got.shared
    assert carol.id not in got.members  # only the members the write touched
    assert "market" not in got.shared

    heard.reset()
    buy(db, carol.id, item, cached_factory.key())
    got = heard.wait_for(lambda c: "market" in c.shared and carol.id in c.members)
    assert {"feed", "leaderboard"} <= got.shared
    assert alice.id not in got.members and bob.id not in got.members


def test_the_in_process_backend_tells_its_listeners(
    sqlite_db: Database, sqlite_factory: Factory
) -> None:
    backend = MemoryBackend()
    sqlite_db.cache = Cache(backend)
    heard = Heard()

    def listener(keys: list[str]) -> None:
        batch = Changes()
        for key in keys:
            batch.add_key(key)
        heard(batch)

    backend.listeners.append(listener)
    _write_and_hear(sqlite_factory, heard)


@pytest.mark.integration
def test_every_process_hears_a_write_through_redis(
    sqlite_db: Database, sqlite_factory: Factory, redis_url: str
) -> None:
    sqlite_db.cache = Cache(RedisBackend(redis_url))
    heard = Heard()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    task = asyncio.run_coroutine_threadsafe(listen_redis(redis_url, heard), loop)
    try:
        # A (re)subscription reports everything: nothing published before it was heard.
        heard.wait_for(lambda c: c.everything)
        _write_and_hear(sqlite_factory, heard)
    finally:
        task.cancel()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
