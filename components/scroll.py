"""ScrollSentinel (assets/scroll_sentinel.jsx): infinite scroll for a keyset-paged list."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec


class ScrollSentinel(rx.Component):
    library = "$/public/scroll_sentinel.jsx"
    tag = "ScrollSentinel"

    enabled: rx.Var[bool]
    margin: rx.Var[str]
    on_visible: rx.EventHandler[no_args_event_spec]


def scroll_sentinel(on_visible: Any, *, enabled: rx.Var[bool] | bool = True) -> rx.Component:
    """Put it after the last row: reaching it loads the next page."""
    return ScrollSentinel.create(on_visible=on_visible, enabled=enabled)
