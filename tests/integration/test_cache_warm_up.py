"""The start-up warm-up fills what every first screen reads, so the first member after a
start is served from the cache. Runs on the in-process backend and on Redis DB 15."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import feed, queries
from app.domain.db import Database

if TYPE_CHECKING:
    from tests.support.cache import SqlCounter
    from tests.support.factory import Factory


def test_first_screens_after_the_warm_up_send_no_statements(
    cached_db: Database, cached_factory: Factory, count_sql: type[SqlCounter]
) -> None:
    cached_factory.member("alice", first_name="Alice", balance=500)
    with count_sql(cached_db) as sql:
        queries.warm_up(cached_db)
        assert sql.count > 0
        sql.reset()
        # The shared reads as the screens make them (state/home, feed, market, leaderboard).
        queries.active_banners(cached_db)
        queries.feed_page(cached_db, None, feed.DEFAULT_PAGE)
        queries.market_items(cached_db)
        for period in ("all", "week"):
            queries.board(cached_db, period, None, queries.BOARD_TOP)
        assert sql.statements == []
