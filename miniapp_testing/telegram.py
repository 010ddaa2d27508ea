"""What a Telegram client hands a Mini App, made the way Telegram makes it: initData signed
with the bot token, and the launch parameters in the URL hash (with two themes to pass).

The kit's own copy, stdlib only, so it runs against any project: the app under test has
its own (this app: app/telegram/signing.py and launch.py, for its dev launch), and a test
(tests/unit/test_kit_telegram.py here) keeps the two in step.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
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


def sign_init_data(
    user: Mapping[str, Any],
    bot_token: str,
    *,
    auth_date: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """initData for `user`, signed with `bot_token` the way Telegram signs it (the
    data-check string of the sorted fields, HMAC-SHA256 keyed by HMAC("WebAppData", token))."""
    fields = {
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "query_id": "AAH" + hashlib.sha256(str(user.get("id")).encode()).hexdigest()[:20],
        "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
        **(extra or {}),
    }
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    secret = hmac.digest(b"WebAppData", bot_token.encode(), hashlib.sha256)
    digest = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


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
