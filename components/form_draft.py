"""A form whose inputs stay in the browser until it is sent (assets/form_draft.jsx).

An input bound to state (`value=` and `on_change=`) costs a full Reflex event per pause in
typing: the tab's lock, its substates loaded and saved. A form whose server only needs the
values when it is submitted does without them:

- `text_input(...)` fields carry no state; `form_draft(name, *ids)` beside them keeps what
  the member types in the tab's sessionStorage (a reload, a resume or a backend restart
  puts it back) and has Telegram ask before closing while any of it is filled in;
- the submit event takes the values as arguments: `State.submit(draft_value("my-id"), ...)`,
  read from the inputs when the button is pressed (a handler checks them like any input);
- after a successful submit the handler yields `clear_draft(name)` (state/drafts.py).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

LIBRARY = "$/public/form_draft.jsx"


class FormDraft(rx.Component):
    library = LIBRARY
    tag = "FormDraft"

    name: rx.Var[str]
    fields: rx.Var[list[str]]


def form_draft(name: str, *field_ids: str) -> rx.Component:
    return FormDraft.create(name=name, fields=list(field_ids))


def draft_value(field_id: str) -> rx.Var[str]:
    """What the input `field_id` holds when the event is sent."""
    element = f"document.getElementById({json.dumps(field_id)})"
    return rx.Var(f"({element}?.value ?? '')", _var_type=str)


def text_input(label: str, field_id: str, placeholder: str, **props: Any) -> rx.Component:
    """A labelled input that keeps its own value (see `form_draft`)."""
    return rx.fragment(
        rx.text(label, as_="label", html_for=field_id),
        rx.input(
            placeholder=placeholder,
            id=field_id,
            name=field_id,
            size="3",
            width="100%",
            auto_complete="off",
            **props,
        ),
    )
