"""The screens' reads, through the read-through cache (app.cache) with the policy table.

Arguments are validated before they become part of a key, so a hostile value can neither
pollute the keyspace nor reach the database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.cache import keys
from app.cache import policy as policies
from app.domain import banners, feed, leaderboard, market, users
from app.domain.db import Database
from app.domain.errors import InvalidInput, NotFound
from app.domain.validation import require_id, require_limit, require_user_id
from app.domain.views import (
    BannerView,
    FeedPage,
    Leaderboard,
    LeaderEntry,
    MarketItemView,
    PurchaseView,
    Standings,
    UserProfile,
)

BOARDS = {"all": leaderboard.by_balance, "week": leaderboard.this_week}
BOARD_TOP = leaderboard.TOP


def _cursor(cursor: Any) -> str:
    if cursor is None:
        return "first"
    # Garbage raises InvalidInput; spellings of one position share one key.
    return feed.encode_cursor(*feed.decode_cursor(cursor))


def feed_page(db: Database, cursor: Any = None, limit: Any = feed.DEFAULT_PAGE) -> FeedPage:
    limit = require_limit(limit)
    key = keys.FEED.key("page", _cursor(cursor), limit)
    return db.cache.get_or_load(
        key, policies.FEED, lambda: feed.feed_page(db, cursor, limit), FeedPage
    )


def history(
    db: Database, user_id: Any, cursor: Any = None, limit: Any = feed.DEFAULT_PAGE
) -> FeedPage:
    user_id = require_user_id(user_id)
    limit = require_limit(limit)
    key = keys.history(user_id).key(_cursor(cursor), limit)
    return db.cache.get_or_load(
        key, policies.FEED, lambda: feed.user_history(db, user_id, cursor, limit), FeedPage
    )


def board(
    db: Database, period: Any = "all", user_id: Any = None, limit: Any = BOARD_TOP
) -> Leaderboard:
    """The top members (shared by everyone) plus my own rank, read in one round trip."""
    if not isinstance(period, str) or period not in BOARDS:
        raise InvalidInput("Leaderboard period must be 'all' or 'week'.")
    limit = require_limit(limit)
    compute = BOARDS[period]
    top_item = (
        keys.LEADERBOARD.key("top", period, limit),
        policies.LEADERBOARD,
        lambda: compute(db, None, limit=limit),
        Leaderboard,
    )
    if user_id is None:
        return db.cache.get_or_load(*top_item)  # type: ignore[no-any-return]
    user_id = require_user_id(user_id)
    # My rank moves whenever anyone's score does, so it lives in the leaderboard family.
    rank_item = (
        keys.LEADERBOARD.key("rank", period, user_id),
        policies.LEADERBOARD,
        lambda: _my_rank(db, period, user_id),
        LeaderEntry | None,
    )
    top, me = db.cache.get_many([top_item, rank_item])
    return dataclasses.replace(top, me=me)


def _my_rank(db: Database, period: str, user_id: int) -> LeaderEntry | None:
    if not db.cache.enabled:
        return leaderboard.rank_of(db, period, user_id)
    # With a cache, one snapshot of everyone's place (one statement after each write)
    # serves every member's rank, instead of a counting query per member.
    table = db.cache.get_or_load(
        keys.LEADERBOARD.key("standings", period),
        policies.LEADERBOARD,
        lambda: leaderboard.standings(db, period),
        Standings,
    )
    try:
        me = profile(db, user_id)
    except NotFound:
        return None
    return leaderboard.entry_from_standings(table, me)


def market_items(db: Database) -> list[MarketItemView]:
    return db.cache.get_or_load(
        keys.MARKET.key("items"),
        policies.MARKET,
        lambda: market.list_items(db),
        list[MarketItemView],
    )


def market_item(db: Database, item_id: Any) -> MarketItemView:
    item_id = require_id(item_id, "Item id", maximum=market.MAX_ITEM_ID)
    return db.cache.get_or_load(
        keys.MARKET.key("item", item_id),
        policies.MARKET,
        lambda: market.get_item(db, item_id),
        MarketItemView,
    )


def active_banners(db: Database) -> list[BannerView]:
    return db.cache.get_or_load(
        keys.BANNERS.key("active"),
        policies.BANNERS,
        lambda: banners.active_banners(db),
        list[BannerView],
    )


def profile(db: Database, user_id: Any) -> UserProfile:
    user_id = require_user_id(user_id)
    return db.cache.get_or_load(
        keys.profile(user_id).key("view"),
        policies.PROFILE,
        lambda: users.get_profile(db, user_id),
        UserProfile,
    )


def purchases(db: Database, user_id: Any, limit: Any = 50) -> list[PurchaseView]:
    user_id = require_user_id(user_id)
    limit = require_limit(limit)
    return db.cache.get_or_load(
        keys.purchases(user_id).key(limit),
        policies.PROFILE,
        lambda: market.user_purchases(db, user_id, limit=limit),
        list[PurchaseView],
    )


def warm_up(db: Database) -> None:
    """Read what the screens share, as they read it, so the first member after a start
    does not pay for opening the pool and compiling the statements (most of the gain)
    nor for these entries (kept for their TTL: the feed 30 s, the rest 1 to 5 min).
    A member's own rows (profile, rank, reward) cannot be read ahead."""
    active_banners(db)
    feed_page(db, None, feed.DEFAULT_PAGE)
    market_items(db)
    for period in BOARDS:
        board(db, period, None, BOARD_TOP)
