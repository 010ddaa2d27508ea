"""What a screen is: a route, a title, a component function, and its load events.

Every page module defines one or more `Page`s; app/pages/__init__.py lists them and app.py
registers them all, so adding a screen is one line there. A page function returns only
its own content; `Page.render` puts it behind the session gate (shown to a verified
member only) next to the Telegram bridge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from components.session_gate import session_gate
from components.telegram import telegram_bridge
from state.session import SessionState


@dataclass(frozen=True)
class Page:
    route: str
    title: str
    component: Callable[[], rx.Component]
    # Events after the page loads, with this page's route parameters (identity comes
    # first, on every load and every reconnect).
    on_load: Sequence[Any] = field(default_factory=tuple)
    # The screen's member data: after identity on every load, after a late bind, and
    # again when the Mini App comes back from the background.
    on_ready: Sequence[Any] = field(default_factory=tuple)

    def screen_events(self) -> list[Any]:
        """What fills this screen once the member is known (again after a resume)."""
        return [*self.on_load, *self.on_ready]

    def load_events(self) -> list[Any]:
        return [SessionState.start, *self.screen_events()]

    def render(self) -> rx.Component:
        return rx.fragment(telegram_bridge(), session_gate(self.component()))
