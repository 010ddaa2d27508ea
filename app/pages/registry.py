"""What a screen is: a route, a title, a component function, and its load events.

Every page module defines one or more `Page`s; app/pages/__init__.py lists them and app.py
registers them all, so adding a screen is one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from state.session import SessionState


@dataclass(frozen=True)
class Page:
    route: str
    title: str
    component: Callable[[], rx.Component]
    # Events after the page loads. Identity comes first on every page (and on every
    # reconnect); member-specific data loads when the gate opens (see session_gate).
    on_load: Sequence[Any] = field(default_factory=tuple)

    def load_events(self) -> list[Any]:
        return [SessionState.start, *self.on_load]
