"""Telegram's launch parameters in the URL hash, as a Telegram client passes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

LIGHT_THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#2481cc",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#6d6d72",
    "subtitle_text_color": "#999999",
    "destructive_text_color": "#e53935",
}
DARK_THEME = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#0f0f0f",
    "header_bg_color": "#212121",
    "accent_text_color": "#8774e1",
    "section_bg_color": "#212121",
    "section_header_text_color": "#aaaaaa",
    "subtitle_text_color": "#aaaaaa",
    "destructive_text_color": "#e53935",
}
THEMES = {"light": LIGHT_THEME, "dark": DARK_THEME}


def launch_hash(
    init_data: str,
    *,
    version: str = "8.0",
    platform: str = "tdesktop",
    theme: Mapping[str, str] = LIGHT_THEME,
) -> str:
    """The fragment after '#': telegram-web-app.js reads initData and the rest from it."""
    return urlencode(
        {
            "tgWebAppData": init_data,
            "tgWebAppVersion": version,
            "tgWebAppPlatform": platform,
            "tgWebAppThemeParams": json.dumps(dict(theme), separators=(",", ":")),
        }
    )
