"""Feed screen: the community's transactions, newest first."""

from __future__ import annotations

import reflex as rx

from app.pages.registry import Page
from components.feed_list import feed_row, feed_skeleton
from components.layout import error_message, screen
from components.session_gate import member_header, session_gate
from state.feed import FeedState


def feed_page() -> rx.Component:
    return session_gate(
        screen(
            "Community feed",
            member_header(),
            error_message(FeedState.error),
            rx.cond(
                FeedState.loaded,
                rx.cond(
                    FeedState.rows.length() > 0,
                    rx.vstack(
                        rx.foreach(FeedState.rows, feed_row),
                        id="feed-list",
                        spacing="1",
                        width="100%",
                    ),
                    rx.text("No transactions yet.", class_name="empty"),
                ),
                feed_skeleton(),
            ),
            rx.cond(
                FeedState.has_more,
                rx.button(
                    "Load more",
                    on_click=FeedState.load_more,
                    loading=FeedState.loading,
                    variant="soft",
                    width="100%",
                    size="3",
                    id="feed-more",
                ),
            ),
            tab="feed",
        ),
        on_ready=[FeedState.load_first],
    )


PAGE = Page("/feed", "Feed", feed_page)
