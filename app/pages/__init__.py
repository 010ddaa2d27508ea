"""Every screen of the app, in tab order; app.py registers them all."""

from __future__ import annotations

from app.pages import feed, home, leaderboard, market, profile
from app.pages.registry import Page

PAGES: list[Page] = [
    home.PAGE,
    feed.PAGE,
    leaderboard.PAGE,
    market.GRID,
    market.ITEM,
    profile.PROFILE,
    profile.SEND,
]
