"""The start-up warm-up fills what every first screen reads, so the first member after a
start is served from the cache. Runs on the in-process backend and on Redis DB 15."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import queries
from app.domain.db import Database

if TYPE_CHECKING:
    from cache_fixtures import SqlCounter
    from conftest import Factory

pytest_plugins = ["cache_fixtures"]


def test_first_screens_after_the_warm_up_send_no_statements(
    cached_db: Database, cached_factory: Factory, count_sql: type[SqlCounter]
) -> None:
    cached_factory.member("alice", first_name="Alice", balance=500)
    with count_sql(cached_db) as sql:
        queries.warm_up(cached_db)
        assert sql.count > 0
        sql.reset()
        queries.active_banners(cached_db)
        queries.feed_page(cached_db)
        queries.market_items(cached_db)
        queries.board(cached_db, "all")
        queries.board(cached_db, "week")
        assert sql.statements == []
