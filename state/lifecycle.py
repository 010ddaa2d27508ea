"""The Telegram lifecycle as the server sees it: active or not, the viewport, theme, insets.

components/telegram.py forwards the client's events here. While the Mini App is
deactivated (minimized, or the page hidden on clients before Bot API 8.0) nothing is
pushed to the tab (state/live.py) and its safety-net ticker stops, so it costs the server
nothing. On activation the visible screen refreshes: its load events run again (cheap,
from the cache within TTL), and the pushes resume from there. The reply carries the
client's nonce back, which tells the bridge that the socket is live again.

Every argument comes from the browser, so every handler accepts anything and keeps only
what it can use.
"""

from __future__ import annotations

import math
from typing import Any

import reflex as rx

from state import live
from state.services import text_arg
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


class LifecycleState(rx.State):
    active: bool = True
    # The nonce of the last resume the server handled (the bridge waits for it).
    resumed: str = ""
    # "0" while the bridge last saw the Mini App minimized: it comes with every hydrate, so
    # a tab whose state is new after a reconnect (a backend that died) stays quiet.
    shown: str = rx.SessionStorage("", name="tg_active")
    # What the client reported, for handlers on the server. Backend-only: the page itself
    # reads the script's --tg-* CSS variables, so none of this needs a delta to the browser.
    _version: str = ""
    _platform: str = ""
    _in_telegram: bool = False
    _color_scheme: str = "light"
    _viewport_height: int = 0
    _viewport_stable_height: int = 0
    _safe_area: dict[str, int] = {}
    _content_safe_area: dict[str, int] = {}

    @rx.event
    async def ready(self, info: Any) -> None:
        info = info if isinstance(info, dict) else {}
        self._version = text_arg(info.get("version"), 8)
        self._platform = text_arg(info.get("platform"), 32)
        self._in_telegram = info.get("in_telegram") is True
        self._color_scheme = "dark" if info.get("color_scheme") == "dark" else "light"
        self.active = info.get("is_active") is not False
        self._set_viewport(info.get("viewport"))
        self._safe_area = _insets(info.get("safe_area"))
        self._content_safe_area = _insets(info.get("content_safe_area"))
        if not self.active:
            await live.pause(self)

    @rx.event
    async def activated(self, nonce: Any) -> list[Any]:
        self.active = True
        self.resumed = text_arg(nonce, 40)
        # Identity and the visible screen again, which reloads what changed while
        # minimized; pushes resume from there.
        return [SessionState.refresh]

    @rx.event
    async def deactivated(self) -> None:
        self.active = False
        await live.pause(self)

    @rx.event
    def viewport_changed(self, viewport: Any) -> None:
        self._set_viewport(viewport)

    def _set_viewport(self, viewport: Any) -> None:
        viewport = viewport if isinstance(viewport, dict) else {}
        self._viewport_height = _pixels(viewport.get("height"))
        self._viewport_stable_height = _pixels(viewport.get("stable_height"))

    @rx.event
    def theme_changed(self, color_scheme: Any) -> None:
        self._color_scheme = "dark" if color_scheme == "dark" else "light"

    @rx.event
    def safe_area_changed(self, insets: Any) -> None:
        self._safe_area = _insets(insets)

    @rx.event
    def content_safe_area_changed(self, insets: Any) -> None:
        self._content_safe_area = _insets(insets)
