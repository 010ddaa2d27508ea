"""With a cache, ranks come from one shared snapshot; they must equal the SQL ranks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.cache.backends import MemoryBackend
from app.cache.readthrough import Cache
from app.domain import leaderboard, queries
from app.domain.db import Database
from app.domain.seed import seed
from app.domain.transfers import transfer


@pytest.fixture
def seeded(db: Database) -> Database:
    seed(db, users=60, transactions=600, quiet=True, now=datetime.now(UTC))
    return db


def _cached(db: Database) -> Database:
    return Database(db.url, cache=Cache(MemoryBackend()))


@pytest.mark.parametrize("period", ["all", "week"])
def test_snapshot_rank_equals_sql_rank_for_every_member(seeded: Database, period: str) -> None:
    cached = _cached(seeded)
    table = leaderboard.standings(seeded, period)
    ids = [1_000_001 + i for i in range(60)]
    for member in ids:
        expected = leaderboard.rank_of(seeded, period, member)
        me = queries.profile(cached, member)
        assert leaderboard.entry_from_standings(table, me) == expected, member
    cached.dispose()


@pytest.mark.parametrize("period", ["all", "week"])
def test_board_with_cache_equals_board_without(seeded: Database, period: str) -> None:
    cached = _cached(seeded)
    for member in (1_000_001, 1_000_030, 1_000_059):
        plain = queries.board(seeded, period, member, 10)
        assert queries.board(cached, period, member, 10) == plain
        assert queries.board(cached, period, member, 10) == plain  # from the cache
    # A transfer through the cached path reorders the board; both paths agree at once.
    transfer(cached, 1_000_001, "bob", 1, None, "leaderboard-test-1")
    for member in (1_000_001, 1_000_002):
        assert queries.board(cached, period, member, 10) == queries.board(
            seeded, period, member, 10
        )
    cached.dispose()
