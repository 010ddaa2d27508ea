"""The community feed: first page on load, more on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from app.cache import keys
from app.domain import feed, queries
from app.domain.errors import DomainError
from app.domain.views import FeedItem
from state import live
from state.formatting import ago, points
from state.member import MemberScreen
from state.services import call


@dataclass
class FeedRow:
    """One feed line, formatted on the server so the page only lays it out."""

    id: int
    kind: str
    title: str
    detail: str
    amount: str
    when: str


def to_row(item: FeedItem) -> FeedRow:
    if item.kind == "transfer":
        title = f"{item.from_name} → {item.to_name}"
        amount = points(item.amount)
    elif item.kind == "purchase":
        title = f"{item.from_name} bought {item.item_title or 'an item'}"
        amount = f"\u2212{points(item.amount)}"
    else:
        title = f"{item.to_name} got a reward"
        amount = f"+{points(item.amount)}"
    return FeedRow(
        id=item.id,
        kind=item.kind,
        title=title,
        # A purchase's note repeats the item title that the title line already shows.
        detail="" if item.note == item.item_title else item.note or "",
        amount=amount,
        when=ago(item.created_at),
    )


MAX_ROWS = 400


async def first_page() -> tuple[list[FeedRow], str]:
    """The feed's first page as rows, and the cursor after it: one cache entry that the
    Feed, Home and the live pushes all read."""
    page = await call(queries.feed_page, None, feed.DEFAULT_PAGE)
    return [to_row(i) for i in page.items], page.next_cursor or ""


class FeedState(MemberScreen, rx.State):
    rows: list[FeedRow] = []
    cursor: str = ""  # the page after the rows; "" at the end (the page shows "more" by it)
    loading: bool = False
    loaded: bool = False
    # Whether this tab scrolled past the first page: until then its rows are the feed's
    # first page, pushed alike to every such tab (FEED_HEAD); after it they are its own.
    _own: bool = False

    @rx.event
    async def load_first(self) -> None:
        """Idempotent: a reconnect or a resume re-runs it and must not duplicate rows.
        It runs inside the identity event (fill_screen), so the first rows reach the page
        with the member; a `yield` here would cost a round trip of its own."""
        if await self._member() is None:  # members only, whatever the client sends
            return
        if self._own and self.loaded and self.rows and not self.error:
            # Back on a screen scrolled through (a resume, a tab switch): new rows on
            # top, and the pages the member scrolled through stay where they were.
            await self.refresh_top()
            return
        try:
            self.rows, self.cursor = await first_page()
        except DomainError as exc:
            self.error = exc.message
        else:
            self._own = False
            self.error = ""
        finally:
            self.loaded = True

    async def refresh_top(self) -> None:
        """New items on top, keeping the pages already shown (a scrolled tab's push)."""
        if not self.loaded:
            return
        try:
            page = await call(queries.feed_page, None, feed.DEFAULT_PAGE)
        except DomainError:
            return
        seen = {row.id for row in self.rows}
        fresh = [to_row(i) for i in page.items if i.id not in seen]
        if len(fresh) == len(page.items) and page.items:
            # More arrived than one page (a long minimize): no overlap with what is shown,
            # so start over from the top rather than leave a silent gap.
            self.rows = fresh
            self.cursor = page.next_cursor or ""
            self._own = False
        elif fresh:
            self.rows = (fresh + self.rows)[:MAX_ROWS]

    @rx.event
    async def load_more(self, after: Any = None) -> AsyncIterator[None]:
        """The page after `after` (the cursor the page saw): the scroll sentinel and the
        button may both ask for the same page, and only the first asking gets it."""
        if self._own and after is not None and after != self.cursor:
            return
        if self.loading or await self._member() is None:
            return
        self.loading = True
        yield
        try:
            if not self._own:
                # The rows shown are the pushed first page, newer than this state's copy:
                # start from the first page as it is now.
                self.rows, self.cursor = await first_page()
            if self.cursor:
                page = await call(queries.feed_page, self.cursor, feed.DEFAULT_PAGE)
                seen = {row.id for row in self.rows}
                self.rows = self.rows + [to_row(i) for i in page.items if i.id not in seen]
                # The whole list goes to the browser on each change and lives in the tab's
                # state: past MAX_ROWS the feed ends (a client cannot pull in the whole
                # table).
                self.cursor = (page.next_cursor or "") if len(self.rows) < MAX_ROWS else ""
                if not self._own:
                    self._own = True
                    await live.take_over(self, FEED_HEAD)
        except DomainError as exc:
            self.error = exc.message
        finally:
            self.loading = False


async def _head(_: str) -> live.Values:
    rows, cursor = await first_page()
    return {FeedState: {"rows": rows, "cursor": cursor}}


async def _owns(state: rx.State) -> bool:
    return (await state.get_state(FeedState))._own


async def _refresh_own(state: rx.State) -> None:
    await (await state.get_state(FeedState)).refresh_top()


# The Feed screen's rows while a tab has only the first page: the same for everyone.
FEED_HEAD = live.Broadcast("feed", (keys.FEED,), _head, owned=_owns, refresh=_refresh_own)
