"""The Telegram lifecycle as the server sees it: active or not, the viewport, theme, insets.

components/telegram.py forwards the client's events here. While the Mini App is
deactivated (minimized, or the page hidden on clients before Bot API 8.0) the live ticker
stops, so that tab costs the server nothing. On activation the visible screen refreshes:
its load events run again (cheap, from the cache within TTL) and the live ticker catches
up on what changed meanwhile. The reply carries the client's nonce back, which tells the
bridge that the socket is live again.

Every argument comes from the browser, so every handler accepts anything and keeps only
what it can use.
"""

from __future__ import annotations

import math
from typing import Any

import reflex as rx

from state.live import LiveState
from state.navigation import screen_events
from state.session import SessionState

SIDES = ("top", "bottom", "left", "right")
MAX_PIXELS = 10_000


def _pixels(value: Any) -> int:
    # JSON from the socket may carry NaN or Infinity too.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, min(int(value), MAX_PIXELS))


def _insets(value: Any) -> dict[str, int]:
    value = value if isinstance(value, dict) else {}
    return {side: _pixels(value.get(side)) for side in SIDES}


def _short(value: Any, limit: int = 32) -> str:
    return value[:limit] if isinstance(value, str) else ""


class LifecycleState(rx.State):
    active: bool = True
    # The nonce of the last resume the server handled (the bridge waits for it).
    resumed: str = ""
    version: str = ""
    platform: str = ""
    in_telegram: bool = False
    color_scheme: str = "light"
    viewport_height: int = 0
    viewport_stable_height: int = 0
    safe_area: dict[str, int] = {}
    content_safe_area: dict[str, int] = {}
    deactivations: int = 0
    resumes: int = 0

    @rx.event
    def ready(self, info: Any) -> None:
        info = info if isinstance(info, dict) else {}
        self.version = _short(info.get("version"), 8)
        self.platform = _short(info.get("platform"))
        self.in_telegram = info.get("in_telegram") is True
        self.color_scheme = "dark" if info.get("color_scheme") == "dark" else "light"
        self.active = info.get("is_active") is not False
        self._set_viewport(info.get("viewport"))
        self.safe_area = _insets(info.get("safe_area"))
        self.content_safe_area = _insets(info.get("content_safe_area"))

    @rx.event
    def activated(self, nonce: Any) -> list[Any]:
        self.active = True
        self.resumed = _short(nonce, 40)
        self.resumes += 1
        # Identity again (initData may have expired meanwhile), the screen, then what
        # changed while minimized.
        return [SessionState.start, *screen_events(self.router.page.path), LiveState.tick]

    @rx.event
    def deactivated(self) -> None:
        self.active = False
        self.deactivations += 1

    @rx.event
    def viewport_changed(self, viewport: Any) -> None:
        self._set_viewport(viewport)

    def _set_viewport(self, viewport: Any) -> None:
        viewport = viewport if isinstance(viewport, dict) else {}
        self.viewport_height = _pixels(viewport.get("height"))
        self.viewport_stable_height = _pixels(viewport.get("stable_height"))

    @rx.event
    def theme_changed(self, color_scheme: Any) -> None:
        self.color_scheme = "dark" if color_scheme == "dark" else "light"

    @rx.event
    def safe_area_changed(self, insets: Any) -> None:
        self.safe_area = _insets(insets)

    @rx.event
    def content_safe_area_changed(self, insets: Any) -> None:
        self.content_safe_area = _insets(insets)
