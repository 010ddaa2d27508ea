"""What a screen is: a route, a title, its content, where it sits, and its load events.

Every page module defines one or more `Page`s; app/pages/__init__.py lists them in tab
order and app.py registers them all, so adding a screen is one line there. A page function
returns only its own content; `Page.render` gives it the title, the tab bar (made from the
pages that are tabs), the back link of a page inside another, the session gate (shown to a
verified member only) and the Telegram bridge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import reflex as rx

from components.layout import screen
from components.nav import Tab
from components.session_gate import session_gate
from components.telegram import telegram_bridge
from state.live import Broadcast
from state.session import SessionState


@dataclass(frozen=True)
class Page:
    route: str
    # The browser's title and the screen's heading.
    title: str
    component: Callable[[], rx.Component]
    # A screen of the tab bar (its icon and label), or a screen inside one (`parent`: its
    # tab stays lit and a back link, Telegram's BackButton too, returns to it).
    tab: Tab | None = None
    parent: Page | None = None
    # What fills the screen, run after identity (see screen_events): `on_load` for what
    # the route's parameters name (the item of /market/[item_id]), `on_ready` for the
    # member's own data. Both run with this page's route parameters.
    on_load: Sequence[Any] = field(default_factory=tuple)
    on_ready: Sequence[Any] = field(default_factory=tuple)
    # What the screen shows that every member sees alike, pushed to it after writes
    # (state/live.py). The member's own data (balance, history) is pushed to the member's
    # tabs by reloading the screen's events, whatever is listed here.
    live: Sequence[Broadcast] = field(default_factory=tuple)

    @property
    def lit_tab(self) -> str:
        if self.tab is not None:
            return self.tab.name
        return self.parent.lit_tab if self.parent is not None else ""

    def screen_events(self) -> list[Any]:
        """What fills this screen once the member is known: SessionState runs them after
        identity, on every load and reconnect, after a late bind and on resume."""
        return [*self.on_load, *self.on_ready]

    def load_events(self) -> list[Any]:
        return [SessionState.start]

    def render(self, tabs: Sequence[Tab] = ()) -> rx.Component:
        shown = screen(
            self.title,
            self.component(),
            tabs=tabs,
            tab=self.lit_tab,
            back=self.parent.route if self.parent is not None else "",
        )
        return rx.fragment(telegram_bridge(), session_gate(shown))


def tabs_of(pages: Sequence[Page]) -> list[Tab]:
    """The tab bar: every page that is a tab, in the registry's order, linking to its route."""
    return [replace(page.tab, href=page.route) for page in pages if page.tab is not None]


def views(pages: Sequence[Page]) -> list[tuple[Page, Callable[[], rx.Component]]]:
    """Each page with the function Reflex compiles it from (app.add_page)."""
    tabs = tabs_of(pages)

    def view_of(page: Page) -> Callable[[], rx.Component]:
        def view() -> rx.Component:
            return page.render(tabs)

        return view

    return [(page, view_of(page)) for page in pages]
