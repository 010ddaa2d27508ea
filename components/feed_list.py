"""Feed rows and their loading skeleton."""

from __future__ import annotations

import reflex as rx


def feed_row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.box(
            rx.match(
                row.kind,
                ("transfer", rx.icon("arrow-right-left", size=18)),
                ("purchase", rx.icon("shopping-bag", size=18)),
                rx.icon("gift", size=18),
            ),
            class_name="feed-icon",
        ),
        rx.vstack(
            rx.text(row.title, class_name="feed-title"),
            rx.cond(row.detail != "", rx.text(row.detail, class_name="feed-detail")),
            rx.text(row.when, class_name="feed-when"),
            spacing="0",
            class_name="feed-body",
        ),
        rx.text(row.amount, class_name="feed-amount"),
        class_name="feed-row",
        data_kind=row.kind,
        data_id=row.id,
        align="center",
        width="100%",
    )


def feed_skeleton(rows: int = 6) -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(rx.box(height="56px", width="100%"), loading=True) for _ in range(rows)],
        width="100%",
    )
