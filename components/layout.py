"""The page shell every screen shares."""

from __future__ import annotations

import reflex as rx


def screen(title: str, *children: rx.Component) -> rx.Component:
    return rx.box(
        rx.heading(title, size="6", class_name="screen-title"),
        *children,
        class_name="screen",
    )


def error_message(text: rx.Var[str]) -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, icon="triangle_alert", color_scheme="red", role="alert"),
    )
