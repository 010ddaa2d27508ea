"""The page shell every screen shares: title, content, bottom tab bar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from components.feed_list import feed_skeleton
from components.live import live_ticker
from components.nav import Tab, tab_bar
from components.telegram import back_button, main_button
from state.lifecycle import LifecycleState
from state.session import SessionState

# Live data is pushed (state/live.py); this slow ticker only makes sure a tab that is
# active is followed by the process that holds its socket. Every active tab sends it, so
# its interval is a cost per member: at 2,000 members, one a minute was 27 events/s.
SAFETY_NET_MS = 120_000


def screen(
    title: str,
    *children: rx.Component,
    tabs: Sequence[Tab] = (),
    tab: str = "",
    back: str = "",
) -> rx.Component:
    """A screen's shell (Page.render): the title, a back link to `back`, the content, and
    the tab bar with `tab` lit."""
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
        # data-active shows what the server last heard: active, or minimized.
        rx.box(
            header,
            *children,
            class_name="screen",
            data_active=rx.cond(LifecycleState.active, "true", "false"),
        ),
        tab_bar(tab, tabs) if tabs else rx.fragment(),
        back_button(back) if back else rx.fragment(),
        # Screens render inside the session gate: only a verified member's tab ticks,
        # and only while the Mini App is active (not minimized).
        live_ticker(
            interval=SAFETY_NET_MS, active=LifecycleState.active, on_tick=SessionState.keep_live
        ),
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


def primary_button(
    label: str | rx.Component, *, main_action: bool = False, **props: Any
) -> rx.Component:
    """A full-width action with a large target in the theme's button colour.

    `main_action=True` marks the twin of a Telegram MainButton (components/telegram.py):
    hidden inside Telegram, where the MainButton does its job, shown in a plain browser.
    """
    classes = "primary main-action" if main_action else "primary"
    return rx.button(label, size="4", width="100%", class_name=classes, **props)


def main_action(
    label: str | rx.Var[str],
    on_click: Any,
    *,
    element_id: str,
    loading: bool | rx.Var[bool] = False,
    disabled: bool | rx.Var[bool] = False,
) -> rx.Component:
    """The screen's primary action: Telegram's MainButton inside Telegram (with its progress
    state), the page's own button in a plain browser."""
    enabled = ~disabled if isinstance(disabled, rx.Var) else not disabled
    return rx.fragment(
        primary_button(
            label,
            main_action=True,
            on_click=on_click,
            loading=loading,
            disabled=disabled,
            id=element_id,
        ),
        main_button(label, on_click, progress=loading, enabled=enabled),
    )


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
