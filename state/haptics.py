"""Haptic feedback for the result of an action, where the Telegram client has it (6.1+).

Return `haptic("success")` (or "error", "warning") from an event handler; the bridge
(assets/telegram_bridge.jsx) checks the client's version and does nothing elsewhere.
"""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx


def haptic(kind: Literal["success", "error", "warning"]) -> Any:
    return rx.call_script(f"window.appTelegram && window.appTelegram.haptic({kind!r})")
