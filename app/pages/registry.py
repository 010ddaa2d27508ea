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
from state.live import Broadcast
from state.session import SessionState


@dataclass(frozen=True)
class Page:
    route: str
    title: str
    component: Callable[[], rx.Component]
    # What fills the screen, run after identity (see screen_events): `on_load` for what
    # the route's parameters name (the item of /market/[item_id]), `on_ready` for the
    # member's own data. Both run with this page's route parameters.
    on_load: Sequence[Any] = field(default_factory=tuple)
    on_ready: Sequence[Any] = field(default_factory=tuple)
    # What the screen shows that every member sees alike, pushed to it after writes
    # (state/live.py). The member's own data (balance, history) is pushed to the member's
    # tabs by reloading the screen's events, whatever is listed here.
    live: Sequence[Broadcast] = field(default_factory=tuple)

    def screen_events(self) -> list[Any]:
        """What fills this screen once the member is known: SessionState runs them after
        identity, on every load and reconnect, after a late bind and on resume."""
        return [*self.on_load, *self.on_ready]

    def load_events(self) -> list[Any]:
        return [SessionState.start]

    def render(self) -> rx.Component:
        return rx.fragment(telegram_bridge(), session_gate(self.component()))
