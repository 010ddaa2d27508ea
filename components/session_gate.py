"""Show a screen only to a verified member; explain clearly when there is none."""

from __future__ import annotations

import reflex as rx

from state.session import SessionState


def member_header() -> rx.Component:
    return rx.hstack(
        rx.box(SessionState.initials, class_name="avatar"),
        rx.vstack(
            rx.text(SessionState.name, id="member-name", class_name="member-name"),
            rx.text(
                rx.text.span(SessionState.balance_text, id="member-balance"),
                " points",
                class_name="member-balance",
            ),
            spacing="0",
        ),
        class_name="member-header",
        align="center",
    )


def _outside() -> rx.Component:
    return rx.vstack(
        rx.icon("send", size=40, class_name="gate-icon"),
        rx.heading("Open this app from Telegram", size="5"),
        rx.cond(
            SessionState.status == "rejected",
            rx.text(SessionState.reason, id="gate-reason", class_name="gate-text"),
            rx.text(
                "This is a Telegram Mini App. Open it from the bot's menu button in Telegram.",
                class_name="gate-text",
            ),
        ),
        rx.cond(
            SessionState.dev_launch,
            rx.link(
                rx.button("Open as demo member @alice", size="3"),
                href="/dev/launch?user=alice",
                id="dev-launch",
            ),
        ),
        id="gate",
        data_status=SessionState.status,
        class_name="gate",
        align="center",
    )


def session_gate(*children: rx.Component) -> rx.Component:
    """Children mount only for a verified member."""
    return rx.cond(
        SessionState.status == "ok",
        rx.box(*children, class_name="gate-open"),
        rx.cond(
            SessionState.status == "pending",
            rx.center(rx.spinner(size="3"), class_name="gate"),
            _outside(),
        ),
    )
