"""Writes that patch cached entries in place (Cache.register / finish_write, app/domain/patches.py)
on PostgreSQL and Redis: a patched entry is exactly what a fresh load returns, after random
writes, under concurrent writers and readers, and across two Cache instances (two processes)
with near caches; a patch that cannot be known to be exact is not stored.

"Fresh" is the same query on a Database without a cache (NoCache): straight to PostgreSQL,
and for my rank the counting query, not the cached standings.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from app.cache import keys, writes
from app.cache import policy as policies
from app.cache.backends import MemoryBackend, RedisBackend
from app.cache.readthrough import Cache
from app.cache.writes import Patch
from app.domain import market, patches, queries, rewards, transfers
from app.domain.db import Database
from app.domain.errors import DomainError
from app.domain.views import FeedPage, UserProfile

if TYPE_CHECKING:
    from tests.support.factory import Factory

pytestmark = pytest.mark.integration

_encode = msgspec.msgpack.Encoder().encode


def same(a: Any, b: Any) -> bool:
    """Equal as the cache stores them (msgpack bytes), not merely =="""
    return _encode(a) == _encode(b)


@pytest.fixture
def cached_pg(pg_db: Database, redis_url: str) -> Iterator[Callable[..., Database]]:
    """Databases on the test's PostgreSQL, each with its own Cache (Redis DB 15, near cache
    on): several stand for several app processes."""
    made: list[Database] = []

    def make() -> Database:
        cache = Cache(RedisBackend(redis_url), near=True)
        assert cache.near is not None and cache.near.wait_live()
        database = Database(pg_db.url, cache=cache, pool_size=12, max_overflow=4)
        made.append(database)
        return database

    yield make
    for database in made:
        database.cache.close()
        database.dispose()


def community(factory: Factory, n: int, rng: random.Random) -> list[UserProfile]:
    people = [
        factory.member(f"m{i}", first_name=f"M{i}", balance=rng.randint(0, 300)) for i in range(n)
    ]
    return people


def reads(db: Database, people: list[UserProfile]) -> dict[str, Any]:
    out: dict[str, Any] = {"feed": queries.feed_page(db), "top": queries.board(db, "all")}
    for p in people:
        out[f"board:{p.id}"] = queries.board(db, "all", p.id)
        out[f"profile:{p.id}"] = queries.profile(db, p.id)
        out[f"history:{p.id}"] = queries.history(db, p.id)
        out[f"purchases:{p.id}"] = queries.purchases(db, p.id)
    out["week"] = queries.board(db, "week", people[0].id)
    return out


def assert_fresh(cached: Database, fresh: Database, people: list[UserProfile]) -> None:
    got, want = reads(cached, people), reads(fresh, people)
    wrong = [name for name in want if not same(got[name], want[name])]
    assert not wrong, f"cached reads differ from a fresh load: {wrong[:5]}"


def random_write(
    db: Database,
    people: list[UserProfile],
    items: list[int],
    rng: random.Random,
    factory: Factory,
    writing: Callable[[list[int]], Any] | None = None,
) -> None:
    """A transfer, a purchase or today's reward, at random; `writing(ids)` is entered around
    it with the members it may change."""
    who = rng.choice(people)
    kind = rng.random()
    to = rng.choice([p for p in people if p.id != who.id])
    involved = [who.id, to.id] if kind < 0.6 else [who.id]
    with writing(involved) if writing else contextlib.nullcontext():
        try:
            if kind < 0.6:
                note = rng.choice([None, "hi"])
                amount = rng.randint(1, 40)
                transfers.transfer(db, who.id, f"@{to.username}", amount, note, factory.key())
            elif kind < 0.8:
                market.buy(db, who.id, rng.choice(items), factory.key())
            else:
                rewards.claim_daily_reward(db, who.id)
        except DomainError:
            pass  # refused (not enough points, sold out, claimed today): nothing changed


def test_patched_entries_equal_fresh_loads_after_random_writes(
    pg_factory: Factory, pg_db: Database, cached_pg: Callable[[], Database]
) -> None:
    rng = random.Random(4)
    people = community(pg_factory, 12, rng)
    items = [pg_factory.item(price=rng.randint(5, 60), stock=rng.randint(1, 4)) for _ in range(3)]
    db = cached_pg()
    for _ in range(60):
        reads(db, people)  # warm: every patchable entry is in the cache before the write
        random_write(db, people, items, rng, pg_factory)
        assert_fresh(db, pg_db, people)
    stats = db.cache.stats.policies
    # Not vacuous: the writes did patch, and the reads after them were mostly hits.
    assert stats["leaderboard"].patched > 20 and stats["feed"].patched > 20
    assert stats["profile"].patched > 10


def test_concurrent_writers_and_readers_in_two_processes_end_fresh(
    pg_factory: Factory, pg_db: Database, cached_pg: Callable[[], Database]
) -> None:
    """8 threads over two Cache instances (two processes) write and read at random. While
    running: a member's profile read that no write on that member overlapped equals the
    database. At the end: every cached read of both instances equals a fresh load."""
    rng = random.Random(7)
    people = community(pg_factory, 10, rng)
    items = [pg_factory.item(price=rng.randint(5, 40), stock=3) for _ in range(2)]
    instances = [cached_pg(), cached_pg()]
    for db in instances:
        reads(db, people)
    stop_at = time.monotonic() + 6
    errors: list[str] = []
    checked = [0]
    # Per member: incremented when a write that may change it starts and when it returned
    # (odd: one in flight). Several writers at once: counted in `active`.
    seq = {p.id: 0 for p in people}
    active = {p.id: 0 for p in people}
    guard = threading.Lock()

    @contextlib.contextmanager
    def writing(ids: list[int]) -> Iterator[None]:
        with guard:
            for i in ids:
                active[i] += 1
                seq[i] += 1
        try:
            yield
        finally:
            with guard:
                for i in ids:
                    active[i] -= 1
                    seq[i] += 1

    def state(uid: int) -> tuple[int, int]:
        with guard:
            return seq[uid], active[uid]

    def worker(n: int) -> None:
        local = random.Random(n)
        db = instances[n % 2]
        while time.monotonic() < stop_at:
            try:
                if local.random() < 0.3:
                    random_write(db, people, items, local, pg_factory, writing)
                    continue
                who = local.choice(people)
                s1, busy = state(who.id)
                seen = queries.profile(db, who.id)
                fresh = queries.profile(pg_db, who.id)
                if (s1, 0) == state(who.id) and not busy:
                    checked[0] += 1
                    if not same(seen, fresh):
                        errors.append(f"profile {who.id}: cached {seen}, db {fresh}")
                queries.board(db, "all", who.id)
                queries.feed_page(db)
                queries.history(db, who.id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert checked[0] > 50
    time.sleep(0.05)  # pub/sub delivery to the other instance's near cache
    for db in instances:
        assert_fresh(db, pg_db, people)
    assert sum(db.cache.stats.total("patched") for db in instances) > 0
    pg_factory.assert_books()


def test_a_write_in_one_process_reaches_the_near_copy_of_another(
    pg_factory: Factory, pg_db: Database, cached_pg: Callable[[], Database]
) -> None:
    a, b = cached_pg(), cached_pg()
    alice = pg_factory.member("alice", first_name="Alice", balance=500)
    pg_factory.member("bob", first_name="Bob", balance=100)
    for db in (a, b):
        queries.feed_page(db)
        queries.board(db, "all")
    before = b.cache.stats.total("near_hits")
    queries.feed_page(b)
    assert b.cache.stats.total("near_hits") == before + 1  # B serves its copy

    result = transfers.transfer(a, alice.id, "@bob", 7, "x", pg_factory.key())
    assert a.cache.stats.policies["feed"].patched >= 1
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline and queries.feed_page(b).items[0].id != result.transaction_id:
        time.sleep(0.002)
    page = queries.feed_page(b)
    assert page.items[0].id == result.transaction_id
    assert same(page, queries.feed_page(pg_db))
    assert same(queries.board(b, "all"), queries.board(pg_db, "all"))
    loads = b.cache.stats.total("loads")
    queries.feed_page(b)
    queries.board(b, "all")
    assert b.cache.stats.total("loads") == loads  # B got the patched entries from Redis


# -- the rules of the finish script ----------------------------------------------------------

KEY = keys.FEED.key("patch-test")


def _page(n: int) -> FeedPage:
    return FeedPage(items=[], next_cursor=str(n))


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def caches(request: pytest.FixtureRequest) -> Callable[[], Cache]:
    """Caches of processes that share one backend: Redis (its Lua scripts), or the
    in-process backend that mirrors them (make run without Redis)."""
    if request.param == "memory":
        shared = MemoryBackend()
        return lambda: Cache(shared)
    url = request.getfixturevalue("redis_url")
    return lambda: Cache(RedisBackend(url))


def _stored(cache: Cache) -> FeedPage:
    return cache.get_or_load(KEY, policies.FEED, lambda: _page(-1), FeedPage)


def _bump_to(n: int) -> Patch:
    return Patch(KEY, policies.FEED, FeedPage, lambda old: _page(int(old.next_cursor) + n))


def test_a_patch_is_stored_when_nothing_else_happened(caches: Callable[[], Cache]) -> None:
    cache = caches()
    assert _stored(cache) == _page(-1)
    ticket = cache.register(keys.FEED)
    cache.finish_write(ticket, [_bump_to(11)])
    assert _stored(cache) == _page(10)
    assert cache.stats.policies["feed"].patched == 1 and cache.stats.policies["feed"].loads == 1


def test_no_patch_while_another_write_is_registered(caches: Callable[[], Cache]) -> None:
    one, two = caches(), caches()
    _stored(one)
    first = one.register(keys.FEED)
    second = two.register(keys.FEED)  # e.g. committed between our register and finish
    one.finish_write(first, [_bump_to(11)])
    assert _stored(one) == _page(-1), "patched although another write was in flight"
    two.finish_write(second, [_bump_to(5)])  # its base (before its bump) is gone: a load
    assert _stored(two) == _page(-1)
    assert one.stats.policies["feed"].loads == 2


def test_no_patch_after_a_plain_bump_or_a_changed_entry(caches: Callable[[], Cache]) -> None:
    cache = caches()
    _stored(cache)
    ticket = cache.register(keys.FEED)
    cache.invalidate(keys.FEED)  # a write that does not patch bumped meanwhile
    cache.finish_write(ticket, [_bump_to(11)])
    assert _stored(cache) == _page(-1) and cache.stats.policies["feed"].loads == 2

    # The entry changed between the patch's read and the script: compare-and-set refuses.
    ticket = cache.register(keys.FEED)
    assert ticket.generations is not None
    gen = ticket.generations[keys.FEED.generation_key]
    ok = cache.backend.finish(
        [
            (
                keys.FEED.generation_key,
                keys.FEED.writing_key,
                gen,
                [(KEY.text, b"other", b"new", 1000)],
            )
        ],
        ticket.token,
    )
    assert ok == [False]
    assert _stored(cache) == _page(-1)


def test_a_lapsed_lease_does_not_patch(caches: Callable[[], Cache]) -> None:
    cache = caches()
    _stored(cache)
    ticket = cache.register(keys.FEED)
    cache.backend.unregister([keys.FEED.writing_key], ticket.token)  # the lease is gone
    cache.finish_write(ticket, [_bump_to(11)])
    assert _stored(cache) == _page(-1)


# -- the patch functions at their edges --------------------------------------------------------


def test_feed_page_patch_at_the_edges(
    pg_factory: Factory, pg_db: Database, cached_pg: Callable[[], Database]
) -> None:
    """A page shorter than the limit, exactly the limit, and a write dated before the page."""
    from datetime import timedelta

    from app.domain.models import utcnow

    db = cached_pg()
    alice = pg_factory.member("alice", first_name="Alice", balance=0)
    pg_factory.member("bob", first_name="Bob", balance=0)
    old = utcnow() - timedelta(days=3)
    for n in range(25):
        queries.feed_page(db)
        queries.feed_page(db, None, 3)
        queries.board(db, "all", alice.id)
        # Every third transfer is dated before everything on the page.
        when = old if n % 3 == 0 else None
        try:
            transfers.transfer(db, alice.id, "@bob", 1, None, pg_factory.key(), now=when)
        except DomainError:
            pg_factory.adjust(alice.id, 5)  # outside the app: not cached below
            db.cache.retire_everything()
        assert same(queries.feed_page(db), queries.feed_page(pg_db))
        assert same(queries.history(db, alice.id), queries.history(pg_db, alice.id))
        assert same(queries.board(db, "all", alice.id), queries.board(pg_db, "all", alice.id))


def test_top_patch_refuses_when_the_top_is_unknown() -> None:
    from app.domain.views import Leaderboard, LeaderEntry

    def entry(uid: int, score: int, rank: int = 0) -> LeaderEntry:
        return LeaderEntry(
            rank=rank,
            user_id=uid,
            name="x",
            initials="X",
            username=None,
            photo_url=None,
            score=score,
        )

    board = Leaderboard(period="all", entries=[entry(1, 50, 1), entry(2, 40, 2)], members=5)
    # Member 1 falls below the old second place: who is second now is not in the entry.
    assert patches.top(board, 2, {1: entry(1, 10)}) is None
    # Member 3 (outside) rises to the top: known.
    top = patches.top(board, 2, {3: entry(3, 60)})
    assert top is not None and [e.user_id for e in top.entries] == [3, 1]
    assert [e.rank for e in top.entries] == [1, 2]


def test_a_write_waits_for_one_in_flight_and_then_patches(
    caches: Callable[[], Cache], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writes at once: the second registers only after the first finished (waiting a
    few ms), so both patch instead of both dropping the entry."""
    # The app waits 25 ms for the other write; a busy machine may start the timer's thread
    # later than that, so the test gives it all the time it needs.
    monkeypatch.setattr(writes, "REGISTER_WAIT_S", 30.0)
    one, two = caches(), caches()
    _stored(one)
    first = one.register(keys.FEED)
    timer = threading.Timer(0.005, lambda: one.finish_write(first, [_bump_to(11)]))
    timer.start()
    started = time.monotonic()
    second = two.register(keys.FEED)
    waited = time.monotonic() - started
    timer.join()
    assert 0.003 < waited < 30
    assert first.generations is not None
    assert second.generations == {
        keys.FEED.generation_key: first.generations[keys.FEED.generation_key] + 1
    }
    two.finish_write(second, [_bump_to(100)])
    assert _stored(two) == _page(110)
    assert one.stats.policies["feed"].patched == 1 and two.stats.policies["feed"].patched == 1


def test_redis_hung_between_register_and_finish(
    pg_factory: Factory, pg_db: Database, private_redis: Any, make_redis_cache: Callable[..., Cache]
) -> None:
    """The bump (and the patch) cannot be delivered: nothing from before the write is served
    once Redis answers again (the epoch is bumped), and the patch is not half applied."""
    alice = pg_factory.member("alice", first_name="Alice", balance=500)
    pg_factory.member("bob", first_name="Bob", balance=100)
    db = Database(pg_db.url, cache=make_redis_cache(private_redis.url, cooldown_s=0.2))
    try:
        people = [queries.profile(pg_db, alice.id)]
        reads(db, people)
        original = db.cache.finish_write

        def finish_while_hung(ticket: Any, patches: Any = ()) -> None:
            private_redis.pause()
            try:
                original(ticket, patches)
            finally:
                private_redis.resume()

        db.cache.finish_write = finish_while_hung  # type: ignore[method-assign]
        transfers.transfer(db, alice.id, "@bob", 30, "hung", pg_factory.key())
        db.cache.finish_write = original  # type: ignore[method-assign]
        time.sleep(0.3)  # the breaker's cooldown
        assert_fresh(db, pg_db, people)
        assert queries.profile(db, alice.id).balance == 470
    finally:
        db.cache.close()
        db.dispose()
