"""The Telegram bridge (assets/telegram_bridge.jsx): lifecycle events in, native controls out.

`telegram_bridge()` goes on every page (app/pages/registry.py puts it there): it calls
ready(), expand() and disableVerticalSwipes() where the client supports them and forwards
activated / deactivated (or, before Bot API 8.0, the page's visibility), viewport, theme
and safe-area changes to LifecycleState. The buttons are for screens:

- `back_button(href)`: Telegram's BackButton while the screen is open; it goes to `href`.
- `main_button(text, on_click, progress=..., enabled=...)`: Telegram's MainButton as the
  screen's primary action. Inside Telegram the page's own twin (a `primary_button` with
  `main_action=True`) is hidden; in a plain browser the page's button is the one shown.
- `closing_confirmation(enabled)`: Telegram asks before closing while `enabled` is true.

Haptics come from state: return `haptic("success")` from an event handler.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

from state.lifecycle import LifecycleState

LIBRARY = "$/public/telegram_bridge.jsx"


class TelegramBridge(rx.Component):
    library = LIBRARY
    tag = "TelegramBridge"

    resumed: rx.Var[str]
    on_ready: rx.EventHandler[passthrough_event_spec(dict)]
    on_activated: rx.EventHandler[passthrough_event_spec(str)]
    on_deactivated: rx.EventHandler[no_args_event_spec]
    on_viewport_changed: rx.EventHandler[passthrough_event_spec(dict)]
    on_theme_changed: rx.EventHandler[passthrough_event_spec(str)]
    on_safe_area_changed: rx.EventHandler[passthrough_event_spec(dict)]
    on_content_safe_area_changed: rx.EventHandler[passthrough_event_spec(dict)]


class TelegramBackButton(rx.Component):
    library = LIBRARY
    tag = "TelegramBackButton"

    href: rx.Var[str]


class TelegramMainButton(rx.Component):
    library = LIBRARY
    tag = "TelegramMainButton"

    text: rx.Var[str]
    enabled: rx.Var[bool]
    progress: rx.Var[bool]
    on_click: rx.EventHandler[no_args_event_spec]


class TelegramClosingConfirmation(rx.Component):
    library = LIBRARY
    tag = "TelegramClosingConfirmation"

    enabled: rx.Var[bool]


def telegram_bridge() -> rx.Component:
    return TelegramBridge.create(
        resumed=LifecycleState.resumed,
        on_ready=LifecycleState.ready,
        on_activated=LifecycleState.activated,
        on_deactivated=LifecycleState.deactivated,
        on_viewport_changed=LifecycleState.viewport_changed,
        on_theme_changed=LifecycleState.theme_changed,
        on_safe_area_changed=LifecycleState.safe_area_changed,
        on_content_safe_area_changed=LifecycleState.content_safe_area_changed,
    )


def back_button(href: str) -> rx.Component:
    return TelegramBackButton.create(href=href)


def main_button(
    text: str | rx.Var[str],
    on_click: Any,
    *,
    progress: bool | rx.Var[bool] = False,
    enabled: bool | rx.Var[bool] = True,
) -> rx.Component:
    return TelegramMainButton.create(
        text=text, on_click=on_click, progress=progress, enabled=enabled
    )


def closing_confirmation(enabled: rx.Var[bool]) -> rx.Component:
    return TelegramClosingConfirmation.create(enabled=enabled)
