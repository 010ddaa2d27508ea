"""The Reflex app: pages, global style, and the REST API mounted on the same port."""

from __future__ import annotations

import reflex as rx

from app.api import build_api
from app.pages.feed import feed_page
from state.feed import FeedState

app = rx.App(
    api_transformer=build_api(),
    stylesheets=["/styles.css"],
    theme=None,
    head_components=[
        rx.el.meta(name="color-scheme", content="light dark"),
    ],
)
app.add_page(feed_page, route="/", title="Community", on_load=FeedState.load_first)
