"""The screens' reads, through the read-through cache (app.cache) with the policy table.

Arguments are validated before they become part of a key, so a hostile value can neither
pollute the keyspace nor reach the database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.domain import banners, feed, leaderboard, market, users
from app.domain import cached_reads as reads
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
    return reads.FEED_PAGE.read(
        db.cache, lambda: feed.feed_page(db, cursor, limit), _cursor(cursor), limit
    )


def history(
    db: Database, user_id: Any, cursor: Any = None, limit: Any = feed.DEFAULT_PAGE
) -> FeedPage:
    user_id = require_user_id(user_id)
    limit = require_limit(limit)
    return reads.HISTORY.read(
        db.cache,
        lambda: feed.user_history(db, user_id, cursor, limit),
        _cursor(cursor),
        limit,
        owner=user_id,
    )


def board(
    db: Database, period: Any = "all", user_id: Any = None, limit: Any = BOARD_TOP
) -> Leaderboard:
    """The top members (shared by everyone) plus my own rank, read in one round trip."""
    if not isinstance(period, str) or period not in BOARDS:
        raise InvalidInput("Leaderboard period must be 'all' or 'week'.")
    limit = require_limit(limit)
    compute = BOARDS[period]

    def top_load() -> Leaderboard:
        return compute(db, None, limit=limit)

    if user_id is None:
        return reads.BOARD_TOP.read(db.cache, top_load, period, limit)
    uid = require_user_id(user_id)
    top, me = db.cache.get_many(
        [
            reads.BOARD_TOP.item(top_load, period, limit),
            reads.MY_RANK.item(lambda: _my_rank(db, period, uid), period, uid),
        ]
    )
    board: Leaderboard = dataclasses.replace(top, me=me)
    return board


def _my_rank(db: Database, period: str, user_id: int) -> LeaderEntry | None:
    if not db.cache.enabled:
        return leaderboard.rank_of(db, period, user_id)
    # With a cache, one snapshot of everyone's place (one statement after each write)
    # serves every member's rank, instead of a counting query per member.
    table = reads.STANDINGS.read(db.cache, lambda: leaderboard.standings(db, period), period)
    try:
        me = profile(db, user_id)
    except NotFound:
        return None
    return leaderboard.entry_from_standings(table, me)


def market_items(db: Database) -> list[MarketItemView]:
    return reads.MARKET_ITEMS.read(db.cache, lambda: market.list_items(db))


def market_item(db: Database, item_id: Any) -> MarketItemView:
    item_id = require_id(item_id, "Item id", maximum=market.MAX_ITEM_ID)
    return reads.MARKET_ITEM.read(db.cache, lambda: market.get_item(db, item_id), item_id)


def active_banners(db: Database) -> list[BannerView]:
    return reads.BANNERS.read(db.cache, lambda: banners.active_banners(db))


def profile(db: Database, user_id: Any) -> UserProfile:
    user_id = require_user_id(user_id)
    return reads.PROFILE.read(db.cache, lambda: users.get_profile(db, user_id), owner=user_id)


def purchases(db: Database, user_id: Any, limit: Any = 50) -> list[PurchaseView]:
    user_id = require_user_id(user_id)
    limit = require_limit(limit)
    return reads.PURCHASES.read(
        db.cache, lambda: market.user_purchases(db, user_id, limit=limit), limit, owner=user_id
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
