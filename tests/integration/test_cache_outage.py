"""Redis going away in the middle: reads keep answering from the database, the breaker keeps
them fast, writes made meanwhile are not hidden by entries from before the outage.

Each test runs its own redis-server on a free port (never the shared one on 6379) and
kills, pauses or cuts off that one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import redis

from app.cache import keys
from app.cache.keys import EPOCH_KEY
from app.domain import feed, leaderboard, queries, users
from app.domain.db import Database
from app.domain.transfers import transfer

if TYPE_CHECKING:
    from app.cache.readthrough import Cache
    from miniapp_testing.redis_server import PrivateRedis
    from tests.support.cache import TcpProxy
    from tests.support.factory import Factory

pytestmark = pytest.mark.integration

TIMEOUT_S = 0.25  # RedisBackend's socket timeout
COOLDOWN_S = 0.3  # the breaker's, shortened so the tests stay fast


def settle() -> None:
    """Let the breaker's cooldown pass, so the next call probes the backend."""
    time.sleep(COOLDOWN_S + 0.05)


def assert_reads_match_the_database(db: Database, ids: list[int]) -> None:
    """What the cache answers equals what the database says right now."""
    for uid in ids:
        assert queries.profile(db, uid) == users.get_profile(db, uid)
        assert queries.history(db, uid) == feed.user_history(db, uid, None, 20)
    assert queries.feed_page(db) == feed.feed_page(db, None, 20)
    assert queries.board(db, "all").entries == leaderboard.by_balance(db).entries


def warm(db: Database, ids: list[int]) -> None:
    for _ in range(2):
        for uid in ids:
            queries.profile(db, uid)
            queries.history(db, uid)
        queries.feed_page(db)
        queries.board(db, "all")


@pytest.fixture
def setup(
    sqlite_db: Database,
    sqlite_factory: Factory,
    private_redis: PrivateRedis,
    make_redis_cache: Callable[..., Cache],
) -> tuple[Database, Factory, PrivateRedis, list[int]]:
    sqlite_db.cache = make_redis_cache(private_redis.url, cooldown_s=COOLDOWN_S)
    alice = sqlite_factory.member("alice", first_name="Alice", balance=500)
    bob = sqlite_factory.member("bob", first_name="Bob", balance=200)
    return sqlite_db, sqlite_factory, private_redis, [alice.id, bob.id]


def test_redis_killed_and_restarted_empty(
    setup: tuple[Database, Factory, PrivateRedis, list[int]],
) -> None:
    db, factory, server, ids = setup
    alice, bob = ids
    cache = db.cache
    warm(db, ids)
    assert cache.stats.total("hits") > 0 and cache.stats.total("errors") == 0

    server.kill()  # kill -9: data gone, connections refused

    started = time.monotonic()
    for _ in range(200):
        assert queries.profile(db, alice).balance == 500
    assert queries.feed_page(db) == feed.feed_page(db, None, 20)
    elapsed = time.monotonic() - started
    assert elapsed < 200 * TIMEOUT_S / 10, f"200 reads took {elapsed:.2f} s with Redis down"
    assert cache.breaker.opened >= 1, "the breaker never opened"
    assert cache.stats.total("errors") >= 200

    # A write while Redis is down: its invalidation cannot be delivered.
    transfer(db, alice, "bob", 30, "while down", factory.key())
    assert queries.profile(db, alice).balance == 470  # straight from the database
    assert queries.profile(db, bob).balance == 230

    server.start()  # same port, no data
    settle()
    assert_reads_match_the_database(db, ids)
    assert queries.profile(db, alice).balance == 470
    # The cache is back in use: entries stored again, and read as hits.
    hits = cache.stats.total("hits")
    assert queries.profile(db, alice).balance == 470
    assert cache.stats.total("hits") == hits + 1
    client = server.client()
    assert client.exists(keys.profile(alice).key("view").text)
    assert int(client.get(EPOCH_KEY) or 0) >= 1, "the lost invalidation did not bump the epoch"


def test_hung_redis_keeps_its_data_but_no_pre_outage_entry_is_served(
    setup: tuple[Database, Factory, PrivateRedis, list[int]],
) -> None:
    """SIGSTOP: every call would wait for the socket timeout; the data survives the outage,
    so only the epoch bump stands between the pre-outage entries and the readers."""
    db, factory, server, ids = setup
    alice, bob = ids
    cache = db.cache
    warm(db, ids)
    profile_key = keys.profile(alice).key("view").text
    client = server.client()
    epoch_before = int(client.get(EPOCH_KEY) or 0)

    server.pause()
    try:
        started = time.monotonic()
        for _ in range(200):
            assert queries.profile(db, alice).balance == 500
        elapsed = time.monotonic() - started
        # Without the breaker: 200 x 0.25 s = 50 s.
        assert elapsed < 200 * TIMEOUT_S / 10, f"200 reads took {elapsed:.2f} s on a hung Redis"
        assert cache.breaker.opened >= 1
        transfer(db, alice, "bob", 40, "while hung", factory.key())
        assert queries.profile(db, alice).balance == 460
        assert queries.board(db, "all").entries == leaderboard.by_balance(db).entries
    finally:
        server.resume()

    assert client.exists(profile_key), "the pre-outage entry should still be in Redis"
    settle()
    for _ in range(3):
        assert queries.profile(db, alice).balance == 460, "a pre-outage entry was served"
        assert queries.profile(db, bob).balance == 240
    assert_reads_match_the_database(db, ids)
    assert int(client.get(EPOCH_KEY) or 0) > epoch_before


def test_writer_cut_off_from_a_redis_that_stays_up(
    sqlite_db: Database,
    sqlite_factory: Factory,
    private_redis: PrivateRedis,
    tcp_proxy: Callable[[int], TcpProxy],
    make_redis_cache: Callable[..., Cache],
) -> None:
    """Two app instances on one Redis; the writer's link to Redis is cut while it writes.
    When its link is back, its first call bumps the epoch: the reader stops serving the
    entries from before the write."""
    proxy = tcp_proxy(private_redis.port)
    reader = sqlite_db
    reader.cache = make_redis_cache(private_redis.url, cooldown_s=COOLDOWN_S)
    writer = Database(reader.url, cache=make_redis_cache(proxy.url, cooldown_s=COOLDOWN_S))
    try:
        alice = sqlite_factory.member("alice", first_name="Alice", balance=500).id
        bob = sqlite_factory.member("bob", first_name="Bob", balance=200).id
        warm(reader, [alice, bob])
        assert queries.profile(writer, bob).balance == 200  # the writer uses Redis too
        feed_before = queries.feed_page(reader)

        proxy.cut()
        result = transfer(writer, alice, "bob", 50, "cut off", new_idempotency_key())
        assert result.balance == 450

        # The reader cannot know yet: without the epoch bump to come, this stale entry
        # would be served until its TTL. (This is the window the epoch closes.)
        assert queries.profile(reader, alice).balance == 500
        assert queries.feed_page(reader) == feed_before

        proxy.start()  # the link is back (same port)
        settle()
        queries.profile(writer, bob)  # any call of the writer's cache: bumps the epoch

        assert queries.profile(reader, alice).balance == 450
        assert queries.profile(reader, bob).balance == 250
        assert queries.feed_page(reader).items[0].id == result.transaction_id
        assert_reads_match_the_database(reader, [alice, bob])
        assert_reads_match_the_database(writer, [alice, bob])
    finally:
        writer.dispose()


def test_store_calls_fail_soft_and_the_cache_comes_back(
    setup: tuple[Database, Factory, PrivateRedis, list[int]],
) -> None:
    """A restart between a miss and its store: the load is answered, nothing raised."""
    db, _, server, ids = setup
    alice, _ = ids
    answers: list[Any] = []

    def loader() -> Any:
        server.kill()  # Redis dies while the database is being asked
        return users.get_profile(db, alice)

    key = keys.profile(alice).key("view")
    from app.cache import policy as policies
    from app.domain.views import UserProfile

    answers.append(db.cache.get_or_load(key, policies.PROFILE, loader, UserProfile))
    assert answers[0].balance == 500
    server.start()
    settle()
    assert queries.profile(db, alice).balance == 500
    assert redis.Redis(port=server.port).exists(key.text)


def test_a_load_spanning_a_write_and_an_empty_restart_is_not_served(
    setup: tuple[Database, Factory, PrivateRedis, list[int]],
) -> None:
    """A begins loading; a write bumps the generation (delivered, so nothing is dirty);
    Redis restarts empty before A stores. Had the counters restarted at 0 (as they once
    did), A's entry would match them again and the pre-write value would be served."""
    import threading

    from app.cache import policy as policies
    from app.domain.views import UserProfile

    db, factory, server, ids = setup
    alice, _ = ids
    client = server.client()
    client.flushdb()  # a fresh Redis: no counters yet
    key = keys.profile(alice).key("view")
    read_done, release = threading.Event(), threading.Event()

    def slow() -> UserProfile:
        value = users.get_profile(db, alice)
        read_done.set()
        release.wait(10)
        return value

    a = threading.Thread(
        target=db.cache.get_or_load, args=(key, policies.PROFILE, slow, UserProfile)
    )
    a.start()
    assert read_done.wait(10)
    gen_before = client.get(key.family.generation_key)
    transfer(db, alice, "bob", 10, None, factory.key())  # invalidation delivered
    assert client.get(key.family.generation_key) != gen_before
    server.kill()
    server.start()  # empty again: generation and epoch read 0
    release.set()
    a.join(10)
    settle()
    assert queries.profile(db, alice).balance == 490, "the pre-write load was served"


def new_idempotency_key() -> str:
    import uuid

    return f"outage-{uuid.uuid4().hex}"
