"""The near cache (app/cache/near.py): in-process copies of the shared families, coherent
across processes through Redis pub/sub.

The guarantee tested here: in the writing process, nothing from before a write is served
once invalidate() returned; in another process, not once the bump's message is delivered
(waited for below, normally well under a millisecond), and never later than `window_s`
after the write even when no message can arrive; a lost subscription drops every copy.
Two Cache instances on one Redis stand for two app processes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from app.cache import keys
from app.cache import policy as policies
from app.cache.backends import MemoryBackend, RedisBackend
from app.cache.breaker import CircuitBreaker
from app.cache.near import NearCache
from app.cache.readthrough import Cache
from app.domain import queries, users
from app.domain.db import Database
from app.domain.models import User
from app.domain.transfers import transfer

if TYPE_CHECKING:
    from miniapp_testing.redis_server import PrivateRedis
    from tests.support.cache import TcpProxy
    from tests.support.factory import Factory

pytestmark = pytest.mark.integration

KEY = keys.FEED.key("near-test")


def near_cache(url: str, *, window_s: float = 0.5) -> Cache:
    backend = RedisBackend(url)
    cache = Cache(
        backend,
        near=NearCache(backend.subscriber, ping_s=0.05, window_s=window_s),
        breaker=CircuitBreaker(threshold=3, cooldown_s=0.3),
    )
    assert cache.near is not None
    assert cache.near.wait_live(), "the subscription was not confirmed"
    return cache


@pytest.fixture
def caches() -> Iterator[Callable[..., Cache]]:
    made: list[Cache] = []

    def make(url: str, **kwargs: float) -> Cache:
        cache = near_cache(url, **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.close()


def counting_loader() -> Callable[[], int]:
    numbers = itertools.count(1)
    return lambda: next(numbers)


def wait_until(check: Callable[[], bool], timeout_s: float = 2.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.001)
    return time.monotonic() - started


def test_a_hit_is_served_in_process_and_a_members_data_never_is(
    redis_url: str, caches: Callable[..., Cache]
) -> None:
    cache = caches(redis_url)
    load = counting_loader()
    assert cache.get_or_load(KEY, policies.FEED, load, int) == 1
    assert cache.get_or_load(KEY, policies.FEED, load, int) == 1
    assert cache.stats.policies["feed"].near_hits == 1
    mine = keys.profile(7).key("view")
    for _ in range(3):
        assert cache.get_or_load(mine, policies.PROFILE, counting_loader(), int) == 1
    assert cache.stats.policies["profile"].near_hits == 0, "a member's data is not copied"


def test_write_in_one_process_is_seen_at_once_there_and_after_delivery_in_the_other(
    redis_url: str, caches: Callable[..., Cache]
) -> None:
    a, b = caches(redis_url), caches(redis_url)
    load = counting_loader()
    assert a.get_or_load(KEY, policies.FEED, load, int) == 1
    assert b.get_or_load(KEY, policies.FEED, load, int) == 1
    assert b.get_or_load(KEY, policies.FEED, load, int) == 1  # a copy in b now
    assert b.stats.policies["feed"].near_hits == 1
    a.invalidate(keys.FEED)
    # The writer: synchronous, no window.
    assert a.get_or_load(KEY, policies.FEED, load, int) == 2
    # The other process: once the message is in, never the old value again.
    took = wait_until(lambda: b.near is not None and len(b.near) == 0)
    assert took < 0.5
    for _ in range(3):
        assert b.get_or_load(KEY, policies.FEED, load, int) == 2


def test_a_copy_read_before_a_message_is_not_kept_after_it(
    redis_url: str, caches: Callable[..., Cache]
) -> None:
    """A reader that read the old generation from Redis just before the bump must not put
    its copy in after the bump's message was handled."""
    b = caches(redis_url)
    assert b.near is not None
    b.get_or_load(KEY, policies.FEED, lambda: 1, int)
    b.near.clear()
    token = b.near.token(keys.FEED)  # the reader starts
    b.near.drop([keys.FEED.generation_key])  # the message arrives meanwhile
    b.near.put(keys.FEED, KEY.text, b"old", token)  # the reader is done
    assert b.near.get(keys.FEED, KEY.text) is None


def test_domain_write_through_one_instance_reaches_the_other(
    sqlite_db: Database,
    sqlite_factory: Factory,
    redis_url: str,
    caches: Callable[..., Cache],
) -> None:
    a = sqlite_db
    a.cache = caches(redis_url)
    b = Database(a.url, cache=caches(redis_url))
    try:
        alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
        bob = sqlite_factory.member("bob", first_name="Bob", balance=200).id
        for db in (a, b, a, b):
            queries.feed_page(db)
            queries.board(db, "all", alice)
        result = transfer(a, alice, "bob", 30, "near", "near-test-1")
        assert queries.feed_page(a).items[0].id == result.transaction_id
        assert queries.board(a, "all", bob).me.score == 230  # type: ignore[union-attr]
        assert b.cache.near is not None
        wait_until(lambda: len(b.cache.near) == 0)  # type: ignore[arg-type]
        assert queries.feed_page(b).items[0].id == result.transaction_id
        assert queries.board(b, "all", alice).me.score == 470  # type: ignore[union-attr]
        assert queries.profile(b, bob).balance == 230  # never copied: no window at all
    finally:
        b.dispose()


def test_copies_stop_within_the_window_when_no_message_can_arrive(
    sqlite_db: Database,
    sqlite_factory: Factory,
    private_redis: PrivateRedis,
    caches: Callable[..., Cache],
) -> None:
    """Redis hangs (SIGSTOP): no message and no PING answer can arrive. A change the copy
    cannot hear of (made in the database directly) is served for at most window_s."""
    window_s = 0.3
    sqlite_db.cache = caches(private_redis.url, window_s=window_s)
    alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
    before = queries.board(sqlite_db, "all")
    assert queries.board(sqlite_db, "all") == before
    private_redis.pause()
    try:
        with sqlite_db.write() as s:
            s.execute(update(User.__table__).where(User.id == alice).values(balance=900))
        time.sleep(window_s + 0.05)
        assert sqlite_db.cache.near is not None and not sqlite_db.cache.near.live
        after = queries.board(sqlite_db, "all")  # Redis hung: from the database
        assert after.entries[0].score == 900
    finally:
        private_redis.resume()


def test_lost_subscription_drops_every_copy_and_comes_back(
    sqlite_db: Database,
    sqlite_factory: Factory,
    private_redis: PrivateRedis,
    tcp_proxy: Callable[[int], TcpProxy],
    caches: Callable[..., Cache],
) -> None:
    proxy = tcp_proxy(private_redis.port)
    reader = sqlite_db
    reader.cache = caches(proxy.url)
    writer = Database(reader.url, cache=caches(private_redis.url))
    try:
        alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
        sqlite_factory.member("bob", first_name="Bob", balance=200)
        queries.feed_page(reader)
        queries.feed_page(reader)
        near = reader.cache.near
        assert near is not None and len(near) > 0
        proxy.cut()  # the reader's link to Redis, subscriber included
        wait_until(lambda: len(near) == 0 and not near.live)
        result = transfer(writer, alice, "bob", 5, "while cut", "near-test-2")
        # Its message could not reach the reader; no copy is left to hide the write.
        assert queries.feed_page(reader).items[0].id == result.transaction_id
        proxy.start()  # the link is back (same port)
        wait_until(lambda: near.live, timeout_s=5)
        time.sleep(0.35)  # the breaker's cooldown
        assert queries.feed_page(reader).items[0].id == result.transaction_id
        queries.feed_page(reader)
        assert len(near) > 0, "copies resume once the subscription is confirmed"
    finally:
        writer.cache.close()
        writer.dispose()


def test_redis_restarted_empty_drops_copies(
    sqlite_db: Database,
    sqlite_factory: Factory,
    private_redis: PrivateRedis,
    caches: Callable[..., Cache],
) -> None:
    sqlite_db.cache = caches(private_redis.url)
    alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
    queries.board(sqlite_db, "all")
    queries.board(sqlite_db, "all")
    near = sqlite_db.cache.near
    assert near is not None and len(near) > 0
    private_redis.kill()
    wait_until(lambda: len(near) == 0 and not near.live)
    with sqlite_db.write() as s:  # changed while Redis was away (no message possible)
        s.execute(update(User.__table__).where(User.id == alice).values(balance=700))
    private_redis.start()
    wait_until(lambda: near.live, timeout_s=5)
    time.sleep(0.35)
    assert queries.board(sqlite_db, "all").entries[0].score == 700
    assert queries.board(sqlite_db, "all").entries[0].score == 700


def test_a_copy_never_outlives_its_ttl(redis_url: str, caches: Callable[..., Cache]) -> None:
    cache = caches(redis_url)
    short = policies.Policy("feed", 1)
    load = counting_loader()
    assert cache.get_or_load(KEY, short, load, int) == 1
    assert cache.get_or_load(KEY, short, load, int) == 1
    time.sleep(1.1)
    assert cache.get_or_load(KEY, short, load, int) == 2


def test_no_near_cache_without_redis(sqlite_db: Database, sqlite_factory: Factory) -> None:
    cache = Cache(MemoryBackend(), near=True)
    assert cache.near is None
    sqlite_db.cache = cache
    alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
    assert queries.profile(sqlite_db, alice) == users.get_profile(sqlite_db, alice)
