"""Leaderboard screen: by balance or this week, my rank pinned when I am not in view."""

from __future__ import annotations

import reflex as rx

from app.pages.registry import Page
from components.layout import error_message, loaded_list
from components.nav import Tab
from state.leaderboard import BOARD_TOP, LeaderboardState, LeaderRow


def leader_row(row: LeaderRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.rank, class_name="rank"),
        rx.box(row.initials, class_name="avatar small"),
        rx.text(row.name, class_name="leader-name"),
        rx.text(row.score, class_name="leader-score"),
        class_name=rx.cond(row.user_id == LeaderboardState.me_id, "leader-row mine", "leader-row"),
        align="center",
        width="100%",
    )


def leaderboard() -> rx.Component:
    return rx.fragment(
        rx.segmented_control.root(
            rx.segmented_control.item("Balance", value="all"),
            rx.segmented_control.item("This week", value="week"),
            value=LeaderboardState.period,
            on_change=LeaderboardState.show,
            width="100%",
            id="period",
        ),
        error_message(LeaderboardState.error),
        loaded_list(
            LeaderboardState.loaded,
            LeaderboardState.rows,
            leader_row,
            list_id="leaders",
            empty_text="Nobody here yet this week.",
            skeleton_rows=8,
        ),
        rx.cond(
            # Pinned below when my rank is past the rows shown (the top is pushed, so this
            # is decided on the page, not in the state).
            LeaderboardState.me
            & (LeaderboardState.me.to(LeaderRow).rank > LeaderboardState.rows.length()),
            rx.box(
                leader_row(LeaderboardState.me.to(LeaderRow)), class_name="pinned", id="my-rank"
            ),
        ),
    )


PAGE = Page(
    "/leaderboard",
    "Leaderboard",
    leaderboard,
    tab=Tab("leaderboard", "trophy", "Leaders"),
    on_ready=(LeaderboardState.load,),
    live=(BOARD_TOP,),
)
