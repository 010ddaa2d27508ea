"""Build correctly signed initData, as Telegram would: for the dev launch and the tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from telegram_webapp_auth.auth import generate_secret_key


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("hash",))


def sign_init_data(
    user: Mapping[str, Any],
    bot_token: str,
    *,
    auth_date: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """initData for `user`, signed with `bot_token` the way Telegram signs it."""
    fields = {
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "query_id": "AAH" + hashlib.sha256(str(user.get("id")).encode()).hexdigest()[:20],
        "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
        **(extra or {}),
    }
    digest = hmac.new(
        generate_secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    return urlencode({**fields, "hash": digest})
