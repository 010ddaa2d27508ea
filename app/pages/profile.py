"""Profile screens: my balance, purchases and history; the form to send points."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.pages.registry import Page
from components.feed_list import feed_row
from components.layout import (
    error_message,
    loaded_list,
    main_action,
    notice,
    primary_button,
)
from components.nav import Tab
from components.session_gate import member_header
from components.telegram import closing_confirmation
from state.profile import ProfileState, PurchaseRow, SendState


def purchase_row(row: PurchaseRow) -> rx.Component:
    return rx.hstack(
        rx.image(src=row.image, alt=row.title, loading="lazy", class_name="thumb"),
        rx.vstack(
            rx.text(row.title, class_name="feed-title"),
            rx.text(row.when, class_name="feed-when"),
            spacing="0",
            class_name="feed-body",
        ),
        rx.text(row.price, class_name="feed-amount"),
        class_name="feed-row",
        align="center",
        width="100%",
    )


def profile() -> rx.Component:
    return rx.fragment(
        member_header(),
        rx.link(
            primary_button("Send points"),
            href="/profile/send",
            id="to-send",
            underline="none",
        ),
        error_message(ProfileState.error),
        rx.heading("My purchases", size="4", class_name="section-title"),
        loaded_list(
            ProfileState.loaded,
            ProfileState.purchases,
            purchase_row,
            list_id="purchases",
            empty_text="Nothing bought yet.",
            skeleton_rows=2,
        ),
        rx.heading("My transactions", size="4", class_name="section-title"),
        loaded_list(ProfileState.loaded, ProfileState.history, feed_row, list_id="history"),
    )


def field(
    label: str, field_id: str, value: rx.Var, on_change: Any, placeholder: str, **props: Any
) -> rx.Component:
    """A labelled input bound to a state var."""
    return rx.fragment(
        rx.text(label, as_="label", html_for=field_id),
        rx.input(
            value=value,
            on_change=on_change,
            placeholder=placeholder,
            id=field_id,
            size="3",
            width="100%",
            **props,
        ),
    )


def send_form() -> rx.Component:
    return rx.fragment(
        member_header(),
        error_message(SendState.error),
        notice(SendState.notice),
        rx.vstack(
            field("To", "send-to", SendState.to, SendState.set_to, "@username"),
            field(
                "Amount",
                "send-amount",
                SendState.amount,
                SendState.set_amount,
                "10",
                input_mode="numeric",
            ),
            field(
                "Note (optional)",
                "send-note",
                SendState.note,
                SendState.set_note,
                "Thanks for the help!",
            ),
            main_action(
                "Send",
                SendState.send(SendState.send_key),
                loading=SendState.sending,
                element_id="send",
            ),
            width="100%",
        ),
        closing_confirmation(SendState.has_input),
    )


PROFILE = Page(
    "/profile",
    "Profile",
    profile,
    tab=Tab("profile", "user", "Profile"),
    on_ready=(ProfileState.load,),
)
SEND = Page("/profile/send", "Send points", send_form, parent=PROFILE)
