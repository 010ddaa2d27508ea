"""What the live pushes send (state/live.py): every screen's broadcast reads the cache as
its screen does and turns into a delta the page can apply without the server's state."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.cache import keys
from app.cache.changes import Changes
from app.domain.db import Database
from app.domain.seed import seed
from app.pages import PAGES
from state import live, services
from state.feed import FeedState
from state.leaderboard import BOARD_TOP, LeaderboardState
from state.session import SessionState


def _run(coro):  # Playwright's sync API may keep a loop running on this thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_a_delta_names_the_state_and_its_vars_as_the_page_does() -> None:
    out = live.delta({FeedState: {"rows": [], "cursor": "c"}})
    assert out == {FeedState.get_full_name(): {"rows_rx_state_": [], "cursor_rx_state_": "c"}}


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (SessionState, "balance"),  # balance_text is computed from it on the server
        (SessionState, "_user_id"),  # backend-only: never sent to a page
        (FeedState, "nonexistent"),
    ],
)
def test_only_plain_vars_without_computed_dependents_are_pushed(cls, name) -> None:
    with pytest.raises(live.NotPushable):
        live.delta({cls: {name: 1}})


def test_every_screen_broadcast_reads_and_pushes(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_db, users=30, transactions=200, quiet=True)
    monkeypatch.setattr(services, "get_database", lambda: sqlite_db)
    args = {"board": ["all", "week"], "item": ["1"]}
    seen = set()
    for page in PAGES:
        for broadcast in page.live:
            for arg in args.get(broadcast.name, [""]):
                out = live.delta(_run(broadcast.read(arg)))
                assert out and all(fields for fields in out.values()), broadcast.name
                seen.add(broadcast.name)
    assert seen == {"home", "feed", "board", "market", "item"}
    # The board is the same for everyone: nothing in a row says whose screen it is on.
    board = _run(BOARD_TOP.read("all"))[LeaderboardState]
    assert board["rows"] and not hasattr(board["rows"][0], "mine")


def test_a_members_own_change_is_news_only_to_a_screen_loaded_before_it() -> None:
    gen = keys.profile(7).generation_key
    loaded_after = live.Tab("t", 7, "/index", seen={gen: 12})
    loaded_before = live.Tab("t", 7, "/index", seen={gen: 11})
    someone_else = live.Tab("t", 8, "/index", seen={})
    change = Changes()
    change.add_message(f"{gen}=12")
    assert not loaded_after.has_news(change)  # its load read generation 12 already
    assert loaded_before.has_news(change)
    assert not someone_else.has_news(change)
    # Without the new values (the in-process backend), every change of mine is news.
    unknown = Changes(members={7})
    assert loaded_after.has_news(unknown)
    # And after a lost subscription, everything is.
    assert someone_else.has_news(Changes(everything=True))
