"""The page shell every screen shares: title, content, bottom tab bar."""

from __future__ import annotations

import reflex as rx

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
