"""Profile screens: my balance, purchases and history; the form to send points."""

from __future__ import annotations

import reflex as rx

from app.domain.validation import MAX_NOTE_CHARS
from app.pages.registry import Page
from components.feed_list import feed_row
from components.form_draft import draft_value, form_draft, text_input
from components.layout import (
    error_message,
    loaded_list,
    main_action,
    notice,
    primary_button,
)
from components.nav import Tab
from components.session_gate import member_header
from state.profile import (
    AMOUNT_CHARS,
    SEND_FORM,
    TO_CHARS,
    ProfileState,
    PurchaseRow,
    SendState,
)


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


def send_form() -> rx.Component:
    fields = ("send-to", "send-amount", "send-note")
    return rx.fragment(
        member_header(),
        error_message(SendState.error),
        notice(SendState.notice),
        rx.vstack(
            text_input("To", "send-to", "@username", max_length=TO_CHARS),
            text_input(
                "Amount", "send-amount", "10", input_mode="numeric", max_length=AMOUNT_CHARS
            ),
            text_input(
                "Note (optional)", "send-note", "Thanks for the help!", max_length=MAX_NOTE_CHARS
            ),
            main_action(
                "Send",
                SendState.send(SendState.send_key, *(draft_value(f) for f in fields)),
                loading=SendState.sending,
                element_id="send",
            ),
            width="100%",
        ),
        form_draft(SEND_FORM, *fields),
    )


PROFILE = Page(
    "/profile",
    "Profile",
    profile,
    tab=Tab("profile", "user", "Profile"),
    on_ready=(ProfileState.load,),
)
SEND = Page("/profile/send", "Send points", send_form, parent=PROFILE)
