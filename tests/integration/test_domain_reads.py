"""Reads: feed and history with keyset paging, leaderboards, banners; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from app.domain.banners import active_banners
from app.domain.errors import InvalidInput
from app.domain.feed import encode_cursor, feed_page, user_history
from app.domain.leaderboard import by_balance, this_week, week_start
from app.domain.market import buy
from app.domain.rewards import claim_daily_reward
from app.domain.transfers import transfer
from app.domain.views import FeedItem, FeedPage

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.factory import Factory

T0 = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)  # a Wednesday
LONG_AGO = datetime(2025, 1, 6, tzinfo=UTC)


def all_pages(fetch: Callable[[str | None], FeedPage]) -> list[list[FeedItem]]:
    pages: list[list[FeedItem]] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        assert len(pages) < 1000, "paging does not end"
        cursor = page.next_cursor


def order_key(item: FeedItem) -> tuple[datetime, int]:
    return (item.created_at, item.id)


def make_activity(factory: Factory, transfers: int) -> list[int]:
    """Members joined long ago and `transfers` transfers, several sharing a timestamp."""
    a = factory.member("alice", balance=10_000, now=LONG_AGO)
    factory.member("bob", balance=10_000, now=LONG_AGO)
    factory.member("carol", now=LONG_AGO)
    senders = [(a.id, "bob"), (a.id, "carol")]
    ids: list[int] = []
    for n in range(transfers):
        sender, to = senders[n % 2]
        # Groups of three share one instant: the id must break the tie.
        stamp = T0 + timedelta(seconds=n // 3)
        ids.append(
            transfer(
                factory.db, sender, to, 1 + n, f"n{n}", factory.key(), now=stamp
            ).transaction_id
        )
    return ids


# --- feed ------------------------------------------------------------------------------


def test_feed_newest_first_with_names(factory: Factory) -> None:
    alice = factory.member("alice", balance=500, first_name="Alice", now=LONG_AGO)
    factory.member("bob", first_name="Bob", last_name="K", now=LONG_AGO)
    item = factory.item(price=25, title="Mug")
    transfer(factory.db, alice.id, "bob", 10, "first", factory.key(), now=T0)
    buy(factory.db, alice.id, item, factory.key(), now=T0 + timedelta(minutes=1))
    claim_daily_reward(factory.db, alice.id, now=T0 + timedelta(minutes=2))

    items = feed_page(factory.db, limit=3).items

    assert [i.kind for i in items] == ["reward", "purchase", "transfer"]
    reward, purchase, sent = items
    assert reward.to_id == alice.id
    assert reward.to_name == "Alice"
    assert reward.from_id is None
    assert reward.from_name is None
    assert purchase.item_title == "Mug"
    assert purchase.amount == 25
    assert purchase.from_name == "Alice"
    assert purchase.to_name is None
    assert sent.from_name == "Alice"
    assert sent.to_name == "Bob K"
    assert sent.note == "first"
    assert sent.created_at == T0
    assert sent.created_at.utcoffset() == timedelta(0)


def test_feed_keyset_paging_yields_each_transaction_once(factory: Factory) -> None:
    transfer_ids = make_activity(factory, 47)
    total = factory.count("transactions")  # transfers + welcome bonuses + top-ups

    pages = all_pages(lambda cursor: feed_page(factory.db, cursor=cursor, limit=10))

    seen = [item for page in pages for item in page]
    assert len(seen) == total
    assert len({i.id for i in seen}) == total, "a transaction appeared twice"
    assert set(transfer_ids) <= {i.id for i in seen}
    assert [len(p) for p in pages[:-1]] == [10] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= 10
    keys = [order_key(i) for i in seen]
    assert keys == sorted(keys, reverse=True)
    assert len(set(keys)) == len(keys)


def test_feed_page_size_exactly_divides(factory: Factory) -> None:
    make_activity(factory, 14)
    total = factory.count("transactions")
    pages = all_pages(lambda cursor: feed_page(factory.db, cursor=cursor, limit=total))
    assert [len(p) for p in pages] == [total]
    pages = all_pages(lambda cursor: feed_page(factory.db, cursor=cursor, limit=1))
    assert len(pages) == total
    assert len({p[0].id for p in pages}) == total


def test_new_transactions_do_not_shift_later_pages(factory: Factory) -> None:
    make_activity(factory, 20)
    first = feed_page(factory.db, limit=5)
    # Activity arrives while the member reads page one.
    alice_id = first.items[-1].from_id
    assert alice_id is not None
    for n in range(5):
        transfer(
            factory.db,
            alice_id,
            "bob",
            1,
            None,
            factory.key(),
            now=T0 + timedelta(hours=1, seconds=n),
        )
    second = feed_page(factory.db, cursor=first.next_cursor, limit=5)
    assert {i.id for i in first.items}.isdisjoint(i.id for i in second.items)
    assert order_key(second.items[0]) < order_key(first.items[-1])


def test_cursor_past_the_oldest_gives_empty_page(factory: Factory) -> None:
    make_activity(factory, 3)
    page = feed_page(factory.db, cursor=encode_cursor(LONG_AGO - timedelta(days=1), 1))
    assert page.items == []
    assert page.next_cursor is None


def test_empty_feed(factory: Factory) -> None:
    page = feed_page(factory.db)
    assert page.items == []
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "2025-01-01~x", 12, "0001-01-01T00:00:00+14:00~1"])
def test_feed_rejects_bad_cursor(factory: Factory, cursor: object) -> None:
    with pytest.raises(InvalidInput):
        feed_page(factory.db, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 101, "all", None])
def test_feed_rejects_bad_limit(factory: Factory, limit: object) -> None:
    with pytest.raises(InvalidInput):
        feed_page(factory.db, limit=limit)


def test_user_history_only_that_member(factory: Factory) -> None:
    alice = factory.member("alice", balance=1000, now=LONG_AGO)
    bob = factory.member("bob", balance=1000, now=LONG_AGO)
    carol = factory.member("carol", now=LONG_AGO)
    dave = factory.member("dave", now=LONG_AGO)
    item = factory.item(price=5, stock=50)
    for n in range(12):
        stamp = T0 + timedelta(minutes=n)
        transfer(factory.db, alice.id, "carol", 1, None, factory.key(), now=stamp)
        transfer(factory.db, bob.id, "dave", 1, None, factory.key(), now=stamp)
        transfer(factory.db, bob.id, "alice", 2, None, factory.key(), now=stamp)
        buy(factory.db, bob.id, item, factory.key(), now=stamp)

    pages = all_pages(lambda c: user_history(factory.db, alice.id, cursor=c, limit=7))
    items = [i for p in pages for i in p]
    expected = factory.count("transactions", "from_user_id = :u OR to_user_id = :u", u=alice.id)
    assert len(items) == expected == 12 + 12 + 2  # sent, received, welcome and top-up
    assert len({i.id for i in items}) == len(items)
    assert all(alice.id in (i.from_id, i.to_id) for i in items)
    keys = [order_key(i) for i in items]
    assert keys == sorted(keys, reverse=True)

    dave_items = user_history(factory.db, dave.id, limit=100).items
    assert len(dave_items) == 13
    assert all(i.to_id == dave.id for i in dave_items)
    assert user_history(factory.db, 999_999).items == []
    assert carol.id in {i.to_id for i in items}


# --- leaderboard -----------------------------------------------------------------------


def test_by_balance_order_and_my_rank(factory: Factory) -> None:
    balances = [50, 900, 300, 700, 10, 500, 120]
    members = [factory.member(balance=b) for b in balances]
    board = by_balance(factory.db, members[4].id, limit=3)

    assert board.period == "all"
    assert board.members == len(balances)
    assert [e.score for e in board.entries] == [900, 700, 500]
    assert [e.rank for e in board.entries] == [1, 2, 3]
    assert [e.user_id for e in board.entries] == [members[1].id, members[3].id, members[5].id]
    assert board.me is not None
    assert board.me.user_id == members[4].id
    assert board.me.rank == 7  # last, outside the top 3
    assert board.me.score == 10

    inside = by_balance(factory.db, members[3].id, limit=3)
    assert inside.me is not None
    assert inside.me.rank == 2
    assert inside.me == inside.entries[1]


def test_by_balance_ties_rank_by_join_order_of_ids(factory: Factory) -> None:
    low, high, mid_a, mid_b, mid_c = (factory.member(balance=b) for b in (100, 300, 200, 200, 200))
    board = by_balance(factory.db, mid_c.id, limit=3)
    assert [e.user_id for e in board.entries] == [high.id, mid_a.id, mid_b.id]
    assert board.me is not None
    assert board.me.rank == 4  # tied with two ahead of it, ranked after them by id
    full = by_balance(factory.db, limit=10)
    assert [e.user_id for e in full.entries] == [high.id, mid_a.id, mid_b.id, mid_c.id, low.id]
    # My rank always agrees with my place in the full list.
    for entry in full.entries:
        me = by_balance(factory.db, entry.user_id, limit=1).me
        assert me is not None
        assert me.rank == entry.rank


def test_by_balance_without_me_or_unknown_me(factory: Factory) -> None:
    factory.members(3)
    assert by_balance(factory.db).me is None
    assert by_balance(factory.db, 123_456).me is None
    assert by_balance(factory.db, "123456").me is None


def test_by_balance_empty(factory: Factory) -> None:
    board = by_balance(factory.db, 5)
    assert board.entries == []
    assert board.members == 0
    assert board.me is None


def test_this_week_counts_only_points_received_this_week(factory: Factory) -> None:
    now = T0
    monday = week_start(now)
    alice = factory.member("alice", balance=5000, now=LONG_AGO)
    bob = factory.member("bob", now=LONG_AGO)
    carol = factory.member("carol", now=LONG_AGO)
    item = factory.item(price=100, stock=10)

    # Last week: does not count.
    transfer(
        factory.db, alice.id, "bob", 1000, None, factory.key(), now=monday - timedelta(seconds=1)
    )
    claim_daily_reward(factory.db, carol.id, now=monday - timedelta(hours=2))
    # This week.
    transfer(factory.db, alice.id, "bob", 30, None, factory.key(), now=monday)
    transfer(factory.db, alice.id, "carol", 45, None, factory.key(), now=now)
    claim_daily_reward(factory.db, bob.id, now=now)  # +50
    buy(factory.db, bob.id, item, factory.key(), now=now)  # spending is not earning
    transfer(factory.db, bob.id, "carol", 20, None, factory.key(), now=now)  # +20 for carol

    board = this_week(factory.db, alice.id, now=now)

    assert board.period == "week"
    scores = {e.user_id: e.score for e in board.entries}
    assert scores == {bob.id: 80, carol.id: 65}
    assert [e.user_id for e in board.entries] == [bob.id, carol.id]
    assert board.members == 2
    # Alice only sent points this week: score 0, ranked after every earner.
    assert board.me is not None
    assert board.me.score == 0
    assert board.me.rank == 3

    mine = this_week(factory.db, carol.id, now=now).me
    assert mine is not None
    assert (mine.rank, mine.score) == (2, 65)

    # A week later everything above is history.
    later = this_week(factory.db, bob.id, now=now + timedelta(days=7))
    assert later.entries == []
    assert later.me is not None
    assert later.me.score == 0


def test_this_week_ties_and_limit(factory: Factory) -> None:
    giver = factory.member("giver", balance=10_000, now=LONG_AGO)
    takers = [factory.member(now=LONG_AGO) for _ in range(5)]
    for taker, amount in zip(takers, (10, 40, 40, 5, 40), strict=True):
        assert taker.username is not None
        transfer(factory.db, giver.id, taker.username, amount, None, factory.key(), now=T0)
    board = this_week(factory.db, takers[4].id, limit=2, now=T0)
    assert [e.user_id for e in board.entries] == [takers[1].id, takers[2].id]
    assert board.members == 5
    assert board.me is not None
    assert (board.me.rank, board.me.score) == (3, 40)


# --- banners ---------------------------------------------------------------------------


def test_banners_respect_active_flag_and_time_window(factory: Factory) -> None:
    now = T0
    hour = timedelta(hours=1)
    always = factory.banner("always", priority=1)
    running = factory.banner("running", priority=5, starts_at=now - hour, ends_at=now + hour)
    starts_now = factory.banner("starts now", priority=3, starts_at=now)
    factory.banner("ends now", priority=9, ends_at=now)
    factory.banner("future", priority=9, starts_at=now + hour)
    factory.banner("ended", priority=9, starts_at=now - 2 * hour, ends_at=now - hour)
    factory.banner("switched off", priority=9, active=False)
    open_ended = factory.banner("open ended", priority=3, starts_at=now - hour)

    shown = active_banners(factory.db, now=now)

    assert [b.id for b in shown] == [running, starts_now, open_ended, always]
    assert [b.title for b in shown] == ["running", "starts now", "open ended", "always"]
    later = {b.title for b in active_banners(factory.db, now=now + 2 * hour)}
    assert later == {"always", "starts now", "open ended", "future"}


def test_no_banners(factory: Factory) -> None:
    assert active_banners(factory.db) == []
