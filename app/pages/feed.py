"""Feed screen: the community's transactions, newest first."""

from __future__ import annotations

import reflex as rx

from app.pages.registry import Page
from components.feed_list import feed_row
from components.layout import error_message, loaded_list
from components.nav import Tab
from components.scroll import scroll_sentinel
from components.session_gate import member_header
from state.feed import FEED_HEAD, FeedState


def feed_page() -> rx.Component:
    # An expression, not a computed var: the cursor also arrives in pushes (FEED_HEAD),
    # which carry plain vars only.
    has_more = FeedState.cursor != ""
    return rx.fragment(
        member_header(),
        error_message(FeedState.error),
        loaded_list(
            FeedState.loaded,
            FeedState.rows,
            feed_row,
            list_id="feed-list",
            empty_text="No transactions yet.",
            skeleton_rows=6,
        ),
        # Infinite scroll: the sentinel below the rows asks for the next page as it comes
        # into view; the button stays for keyboards and for browsers without observers.
        scroll_sentinel(
            FeedState.load_more(FeedState.cursor), enabled=has_more & ~FeedState.loading
        ),
        rx.cond(
            has_more,
            rx.button(
                "Load more",
                on_click=FeedState.load_more(FeedState.cursor),
                loading=FeedState.loading,
                variant="soft",
                width="100%",
                size="3",
                id="feed-more",
            ),
        ),
    )


PAGE = Page(
    "/feed",
    "Community feed",
    feed_page,
    tab=Tab("feed", "activity", "Feed"),
    on_ready=(FeedState.load_first,),
    live=(FEED_HEAD,),
)
