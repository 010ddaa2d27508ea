"""The bottom tab bar: the five screens, large touch targets, above the safe area."""

from __future__ import annotations

import reflex as rx

TABS = (
    ("home", "/", "house", "Home"),
    ("feed", "/feed", "activity", "Feed"),
    ("leaderboard", "/leaderboard", "trophy", "Leaders"),
    ("market", "/market", "shopping-bag", "Market"),
    ("profile", "/profile", "user", "Profile"),
)


def tab_bar(active: str) -> rx.Component:
    return rx.el.nav(
        *[
            rx.link(
                rx.icon(icon, size=22),
                rx.text(label, class_name="tab-label"),
                href=href,
                class_name="tab tab-active" if name == active else "tab",
                id=f"tab-{name}",
                underline="none",
            )
            for name, href, icon, label in TABS
        ],
        class_name="tab-bar",
    )
