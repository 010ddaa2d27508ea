"""The page shell every screen shares: title, content, bottom tab bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from components.feed_list import feed_skeleton
from components.live import live_ticker
from components.nav import tab_bar
from state.live import INTERVAL_MS, LiveState


def screen(title: str, *children: rx.Component, tab: str = "", back: str = "") -> rx.Component:
    header = (
        rx.hstack(
            rx.link(rx.icon("chevron-left", size=24), href=back, id="back", class_name="back"),
            rx.heading(title, size="6", class_name="screen-title"),
            align="center",
        )
        if back
        else rx.heading(title, size="6", class_name="screen-title")
    )
    return rx.fragment(
        rx.box(header, *children, class_name="screen"),
        tab_bar(tab) if tab else rx.fragment(),
        # Screens render inside the session gate: only a verified member's tab ticks.
        live_ticker(interval=INTERVAL_MS, active=True, on_tick=LiveState.tick),
    )


def error_message(text: rx.Var[str]) -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, icon="triangle_alert", color_scheme="red", role="alert", id="error"),
    )


def notice(text: rx.Var[str]) -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, icon="circle_check", color_scheme="green", role="status", id="notice"),
    )


def empty(text: str) -> rx.Component:
    return rx.text(text, class_name="empty")


def primary_button(label: str | rx.Component, **props: Any) -> rx.Component:
    """The screen's main action: full width, a large target, the theme's button colour."""
    return rx.button(label, size="4", width="100%", class_name="primary", **props)


def loaded_list(
    loaded: rx.Var[bool],
    items: rx.Var,
    render: Callable[[Any], rx.Component],
    *,
    list_id: str,
    empty_text: str = "",
    skeleton_rows: int = 4,
) -> rx.Component:
    """A skeleton until the screen has loaded, then the rows, or a line saying there are none."""
    rows: rx.Component = rx.vstack(rx.foreach(items, render), id=list_id, spacing="1", width="100%")
    if empty_text:
        rows = rx.cond(items.length() > 0, rows, empty(empty_text))
    return rx.cond(loaded, rows, feed_skeleton(skeleton_rows))
