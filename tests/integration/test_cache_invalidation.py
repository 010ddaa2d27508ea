"""Every write invalidates what it changed, and only that; a load that began before a
write never gets its pre-write result served after the write.

The TTLs are 30 s and more, so without the invalidation each "read again" below would be a
hit on the old value. Runs on the in-process backend and on Redis DB 15.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from app.cache import keys
from app.cache import policy as policies
from app.domain import feed, queries, users
from app.domain import feed as feed_module
from app.domain.db import Database
from app.domain.market import buy
from app.domain.rewards import DAILY_REWARD, claim_daily_reward
from app.domain.transfers import transfer
from app.domain.users import upsert_user
from app.domain.views import FeedPage, UserProfile

if TYPE_CHECKING:
    from tests.support.factory import Factory


def loads(db: Database) -> float:
    return db.cache.stats.total("loads")


def score_of(board: Any, user_id: int) -> int:
    return next(e.score for e in board.entries if e.user_id == user_id)


@pytest.fixture
def trio(cached_factory: Factory) -> tuple[UserProfile, UserProfile, UserProfile]:
    return (
        cached_factory.member("alice", first_name="Alice", balance=500),
        cached_factory.member("bob", first_name="Bob", balance=200),
        cached_factory.member("carol", first_name="Carol", balance=300),
    )


def test_transfer_refreshes_both_profiles_feed_board_and_histories(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    alice, bob, carol = trio
    item = cached_factory.item(price=5, stock=3)
    # Warm everything.
    assert queries.profile(db, alice.id).balance == 500
    assert queries.profile(db, bob.id).balance == 200
    feed_before = queries.feed_page(db)
    board_before = queries.board(db, "all", alice.id)
    week_before = queries.board(db, "week", bob.id)
    assert queries.history(db, alice.id).items[0].kind != "transfer"
    queries.history(db, bob.id)
    queries.profile(db, carol.id)
    queries.market_items(db)
    queries.market_item(db, item)
    queries.active_banners(db)
    assert queries.profile(db, alice.id).balance == 500  # a hit: still the old value

    result = transfer(db, alice.id, "@bob", 25, "lunch", cached_factory.key())

    assert queries.profile(db, alice.id).balance == 475
    assert queries.profile(db, bob.id).balance == 225
    feed = queries.feed_page(db)
    assert feed.items[0].id == result.transaction_id != feed_before.items[0].id
    assert (feed.items[0].from_id, feed.items[0].to_id, feed.items[0].amount) == (
        alice.id,
        bob.id,
        25,
    )
    board = queries.board(db, "all", alice.id)
    assert score_of(board, alice.id) == 475 and score_of(board, bob.id) == 225
    assert board.me is not None and board.me.score == 475
    assert board_before.me is not None and board_before.me.score == 500
    week = queries.board(db, "week", bob.id)
    assert week.me is not None and week_before.me is not None
    assert week.me.score == week_before.me.score + 25
    assert queries.history(db, alice.id).items[0].id == result.transaction_id
    assert queries.history(db, bob.id).items[0].id == result.transaction_id

    # Exactly what it changed: an onlooker's profile, the market, the banners stay cached.
    before = loads(db)
    queries.profile(db, carol.id)
    queries.market_items(db)
    queries.market_item(db, item)
    queries.active_banners(db)
    assert loads(db) == before, "the transfer invalidated what it did not change"

    # A retried transfer (same key) changes nothing and must not invalidate anything.
    queries.feed_page(db)
    before = loads(db)
    replay = transfer(db, alice.id, "@bob", 25, "lunch", "retry-key-1")
    again = transfer(db, alice.id, "@bob", 25, "lunch", "retry-key-1")
    assert again.replayed and not replay.replayed
    queries.feed_page(db)  # after the first (real) transfer: reloaded once, or patched
    queries.feed_page(db)
    # The transfer patched the cached first page in place (Cache.finish_write), on Redis
    # and in process alike: nothing to reload.
    assert loads(db) == before
    assert queries.feed_page(db) == feed_module.feed_page(db)


def test_buy_refreshes_stock_profile_purchases_feed(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    alice, bob, _ = trio
    item = cached_factory.item(price=40, stock=2, title="Hoodie")
    other = cached_factory.item(price=1, stock=9, title="Sticker")
    assert [i.stock for i in queries.market_items(db) if i.id == item] == [2]
    assert queries.market_item(db, item).stock == 2
    assert queries.market_item(db, other).stock == 9
    assert queries.profile(db, alice.id).balance == 500
    assert queries.purchases(db, alice.id) == []
    queries.feed_page(db)
    queries.board(db, "all")
    queries.profile(db, bob.id)

    result = buy(db, alice.id, item, cached_factory.key())

    assert [i.stock for i in queries.market_items(db) if i.id == item] == [1]
    assert queries.market_item(db, item).stock == 1
    assert queries.profile(db, alice.id).balance == 460
    bought = queries.purchases(db, alice.id)
    assert [(p.id, p.item_id, p.title, p.price) for p in bought] == [
        (result.purchase_id, item, "Hoodie", 40)
    ]
    top = queries.feed_page(db).items[0]
    assert (top.id, top.kind, top.item_title) == (result.transaction_id, "purchase", "Hoodie")
    assert score_of(queries.board(db, "all"), alice.id) == 460

    before = loads(db)
    assert queries.profile(db, bob.id).balance == 200  # another member: still cached
    assert loads(db) == before


def test_claim_daily_reward_refreshes_profile_feed_board(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    alice, bob, _ = trio
    assert queries.profile(db, bob.id).balance == 200
    queries.feed_page(db)
    queries.board(db, "all", bob.id)
    queries.history(db, bob.id)
    queries.profile(db, alice.id)

    result = claim_daily_reward(db, bob.id)

    assert queries.profile(db, bob.id).balance == 200 + DAILY_REWARD == result.balance
    top = queries.feed_page(db).items[0]
    assert (top.id, top.kind, top.to_id) == (result.transaction_id, "reward", bob.id)
    board = queries.board(db, "all", bob.id)
    assert board.me is not None and board.me.score == 250
    assert queries.history(db, bob.id).items[0].id == result.transaction_id
    before = loads(db)
    queries.profile(db, alice.id)
    assert loads(db) == before


def test_upsert_with_a_new_name_refreshes_feed_and_board(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    alice, _, _ = trio
    transfer(db, alice.id, "bob", 10, None, cached_factory.key())
    assert queries.feed_page(db).items[0].from_name == "Alice"
    assert queries.profile(db, alice.id).name == "Alice"
    assert any(e.name == "Alice" for e in queries.board(db, "all").entries)
    me = queries.board(db, "all", alice.id).me
    assert me is not None and me.name == "Alice"

    upsert_user(db, {"id": alice.id, "username": "alice", "first_name": "Alicia"})

    assert queries.feed_page(db).items[0].from_name == "Alicia"
    assert queries.profile(db, alice.id).name == "Alicia"
    names = {e.user_id: e.name for e in queries.board(db, "all").entries}
    assert names[alice.id] == "Alicia"
    me = queries.board(db, "all", alice.id).me
    assert me is not None and me.name == "Alicia"


def test_upsert_that_takes_a_username_refreshes_the_displaced_member(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    _, bob, carol = trio
    assert queries.profile(db, bob.id).username == "bob"
    upsert_user(db, {"id": carol.id, "username": "bob", "first_name": "Carol"})
    assert queries.profile(db, bob.id).username is None
    assert queries.profile(db, carol.id).username == "bob"


def test_upsert_without_changes_keeps_the_caches(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    """Every app open upserts the member; an unchanged one must not empty feed or board."""
    db = cached_factory.db
    alice, _, _ = trio
    data = {"id": alice.id, "username": "alice", "first_name": "Alice", "last_name": None}
    upsert_user(db, data)  # settle the stored fields to exactly `data`
    reads = [
        lambda: queries.feed_page(db),
        lambda: queries.board(db, "all", alice.id),
        lambda: queries.board(db, "week"),
        lambda: queries.profile(db, alice.id),
        lambda: queries.history(db, alice.id),
    ]
    first = [read() for read in reads]
    hits, before = db.cache.stats.total("hits"), loads(db)

    profile = upsert_user(db, {**data, "language_code": "de", "is_premium": True})

    assert profile.name == "Alice"
    assert [read() for read in reads] == first
    assert loads(db) == before, "an unchanged upsert invalidated cached reads"
    assert db.cache.stats.total("hits") == hits + 6  # the board with `me` reads two keys


# ---------------------------------------------------------------------------------------
# 4. The stale-write race
# ---------------------------------------------------------------------------------------


def test_a_load_that_began_before_a_write_is_not_served_after_it(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    db = cached_factory.db
    alice, _, _ = trio
    key = keys.profile(alice.id).key("view")
    read_done, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def slow_loader() -> UserProfile:
        value = users.get_profile(db, alice.id)  # reads the database before the write
        read_done.set()
        assert release.wait(10), "never released"
        return value

    def thread_a() -> None:
        try:
            results["a"] = db.cache.get_or_load(key, policies.PROFILE, slow_loader, UserProfile)
        except BaseException as exc:  # pragma: no cover - reported below
            results["a_error"] = exc

    a = threading.Thread(target=thread_a)
    a.start()
    assert read_done.wait(10)

    transfer(db, alice.id, "bob", 100, None, cached_factory.key())  # commit + invalidate

    # A request arriving after the write must not join A's (pre-write) flight or wait
    # for it: it loads the new value itself while A is still stuck.
    started = time.monotonic()
    assert queries.profile(db, alice.id).balance == 400
    assert time.monotonic() - started < 1.0, "a post-write read waited for a pre-write load"
    assert a.is_alive()

    release.set()
    a.join(10)
    assert "a_error" not in results, results.get("a_error")
    assert results["a"].balance == 500  # A itself answers what it read: that is fine
    # ... but what A stored (after the invalidation) is never served.
    for _ in range(3):
        assert queries.profile(db, alice.id).balance == 400
    fresh = UserProfile(alice.id, "x", "x", "x", None, -1, alice.joined_at)
    assert db.cache.get_or_load(key, policies.PROFILE, lambda: fresh, UserProfile).balance == 400, (
        "A's pre-write store displaced the post-write entry and was served"
    )


def test_a_slow_load_racing_a_write_with_no_reader_in_between(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    """The harder order: nobody reads between the write and A's store, so A's store is the
    only entry there is; the next read must still reject it."""
    db = cached_factory.db
    alice, _, _ = trio
    key = keys.FEED.key("page", "first", 20)
    read_done, release = threading.Event(), threading.Event()

    def slow_loader() -> Any:
        value = feed.feed_page(db, None, 20)
        read_done.set()
        release.wait(10)
        return value

    a = threading.Thread(
        target=lambda: db.cache.get_or_load(key, policies.FEED, slow_loader, FeedPage)
    )
    a.start()
    assert read_done.wait(10)
    result = transfer(db, alice.id, "carol", 7, None, cached_factory.key())
    release.set()
    a.join(10)
    assert not a.is_alive()
    assert queries.feed_page(db).items[0].id == result.transaction_id


def test_a_lost_generation_counter_does_not_revive_old_entries(
    cached_factory: Factory, trio: tuple[UserProfile, UserProfile, UserProfile]
) -> None:
    """Counters can vanish (eviction under maxmemory, an empty restart). An entry stored
    before a write must not match a counter that starts over."""
    db = cached_factory.db
    alice, _, _ = trio
    backend = db.cache.backend
    assert backend is not None
    family = keys.profile(alice.id)
    backend.delete(family.generation_key)  # as on a fresh Redis
    assert queries.profile(db, alice.id).balance == 500  # stored under the new counter
    transfer(db, alice.id, "bob", 20, None, cached_factory.key())
    backend.delete(family.generation_key)  # evicted after the write's bump
    assert queries.profile(db, alice.id).balance == 480
