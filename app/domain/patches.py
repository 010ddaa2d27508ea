"""Cached results after a write, computed from the result before it (Cache.finish_write).

Each function answers what the loader would return now, given the entry from before the
write and the write's own rows, or None when it cannot tell (then the entry is dropped and
loaded again). Each gives the same result whether or not the entry it starts from already
holds the write (a load that ran after the commit): the changed rows are taken out and put
back at their new place, never added twice. The orders are the loaders' orders.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable
from typing import Any

from app.cache.writes import Patch
from app.domain import cached_reads as reads
from app.domain import feed, leaderboard
from app.domain.users import to_profile
from app.domain.views import (
    FeedItem,
    FeedPage,
    Leaderboard,
    LeaderEntry,
    Standings,
)


def _by_score(score: int, user_id: int) -> tuple[int, int]:
    # leaderboard.by_balance / standings: score descending, then id ascending.
    return (-score, user_id)


def standings(table: Standings, scores: dict[int, int]) -> Standings | None:
    """The by-balance snapshot with these members' new balances (None: a member missing)."""
    if table.period != "all":
        return None  # the week's scores depend on when the week began: not patched
    ids, values = array("q"), array("q")
    ids.frombytes(table.ids)
    values.frombytes(table.scores)
    for user_id in scores:
        try:
            index = ids.index(user_id)
        except ValueError:
            return None
        ids.pop(index)
        values.pop(index)
    for user_id, score in sorted(scores.items()):
        key = _by_score(score, user_id)
        lo, hi = 0, len(ids)
        while lo < hi:  # first position whose key is greater than ours
            mid = (lo + hi) // 2
            if _by_score(values[mid], ids[mid]) < key:
                lo = mid + 1
            else:
                hi = mid
        ids.insert(lo, user_id)
        values.insert(lo, score)
    return Standings(period=table.period, ids=ids.tobytes(), scores=values.tobytes())


def top(board: Leaderboard, limit: int, changed: dict[int, LeaderEntry]) -> Leaderboard | None:
    """The by-balance top `limit` with these members' new entries (their rank is set here).

    Members outside the old top keep their scores, so they all still rank after the old
    last entry: the new top is known up to there. If it then holds fewer than `limit`
    members while others exist beyond the old top, it is unknown (None).
    """
    if board.period != "all" or board.me is not None:
        return None
    old = board.entries
    if len(old) > limit:
        return None
    complete = len(old) < limit  # the old top was every member
    if complete and board.members != len(old):
        return None
    bound = _by_score(old[-1].score, old[-1].user_id) if old else None
    kept = [e for e in old if e.user_id not in changed]
    merged = sorted([*kept, *changed.values()], key=lambda e: _by_score(e.score, e.user_id))
    if not complete:
        merged = [e for e in merged if bound is None or _by_score(e.score, e.user_id) <= bound]
        if len(merged) < limit:
            return None
    entries = [dataclasses.replace(e, rank=i + 1) for i, e in enumerate(merged[:limit])]
    return dataclasses.replace(board, entries=entries)


def page(old: FeedPage, item: FeedItem, limit: int) -> FeedPage | None:
    """The first page (newest first, keyset cursor) with one new transaction in it."""
    items = [i for i in old.items if i.id != item.id]
    if len(items) != len(old.items):
        # Already there (the entry was loaded after the commit): unchanged, unless the
        # item itself differs, which only a load can tell.
        return old if item in old.items else None
    if len(items) > limit:
        return None
    more = old.next_cursor is not None
    key = (item.created_at, item.id)  # feed order: created_at, then id, both descending
    position = next((n for n, i in enumerate(items) if (i.created_at, i.id) < key), len(items))
    if position == len(items) and more:
        return old  # older than the whole page, and the page is followed by more
    items.insert(position, item)
    if len(items) > limit:
        items = items[:limit]
        more = True
    cursor = feed.encode_cursor(items[-1].created_at, items[-1].id) if more and items else None
    return FeedPage(items=items, next_cursor=cursor)


def page_update(item: FeedItem, limit: int) -> Callable[[FeedPage], FeedPage | None]:
    return lambda old: page(old, item, limit)


def after_ledger_write(changed: dict[int, tuple[Any, int]], item: FeedItem) -> list[Patch]:
    """The cached entries a write that books `item` changes, as they are after it: for each
    member in `changed` (id -> (users row read in the write's transaction, new balance)) the
    profile (a whole value) and the first page of the history; the first page of the feed,
    the by-balance standings and top. Everything else of these families (other pages, the
    week's board, everyone's rank) is dropped by the write's new generation."""
    limit = feed.DEFAULT_PAGE
    balances = {uid: balance for uid, (_, balance) in changed.items()}
    entries = {uid: leaderboard._entry(0, row, balance) for uid, (row, balance) in changed.items()}
    out = [
        reads.FEED_PAGE.patch("first", limit, update=page_update(item, limit)),
        reads.STANDINGS.patch("all", update=lambda table: standings(table, balances)),
        # The top the screen reads (queries.board with leaderboard.TOP).
        reads.BOARD_TOP.patch(
            "all", leaderboard.TOP, update=lambda board: top(board, leaderboard.TOP, entries)
        ),
    ]
    for uid, (row, balance) in changed.items():
        profile = dataclasses.replace(to_profile(row), balance=balance)
        out.append(reads.PROFILE.patch(owner=uid, value=profile))
        out.append(reads.HISTORY.patch("first", limit, owner=uid, update=page_update(item, limit)))
    return out
