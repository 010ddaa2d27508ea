"""Validate Telegram Mini App initData: the one function the rest of the app calls.

The cryptography (HMAC-SHA256 with the bot token, and the Ed25519 third-party signature
with Telegram's public keys) is done by the `telegram-webapp-auth` library. Around it this
module adds what the app needs: a size limit checked before any parsing, one reason code per
kind of rejection, a freshness window against an injectable clock, and a typed user that
tolerates fields Telegram adds later.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from telegram_webapp_auth.auth import TelegramAuthenticator, generate_secret_key
from telegram_webapp_auth.errors import ExpiredInitDataError, InvalidInitDataError

from app.domain.validation import MAX_USER_ID

# Real initData is well under 2 KB; anything far larger is rejected before parsing.
MAX_INIT_DATA_CHARS = 8192
DEFAULT_MAX_AGE = timedelta(hours=24)
_HASH_RE = re.compile(r"[0-9a-f]{64}")
# What the library raises while building its objects AFTER the signature matched.
_AFTER_SIGNATURE = (
    "Invalid user",
    "Invalid receiver",
    "Invalid chat",
    "Invalid can_send_after",
    "Cannot decode ",
)

# How far ahead of our clock Telegram's may be (servers and phones drift a little).
MAX_CLOCK_SKEW = timedelta(minutes=5)

REASONS = {
    "missing": "No Telegram launch data was sent.",
    "too_large": "The Telegram launch data is too large.",
    "malformed": "The Telegram launch data is not valid.",
    "duplicate_key": "The Telegram launch data repeats a field.",
    "missing_hash": "The Telegram launch data is not signed.",
    "bad_hash": "The Telegram launch data has a wrong signature.",
    "missing_signature": "The Telegram launch data has no third-party signature.",
    "bad_signature": "The Telegram launch data has a wrong third-party signature.",
    "expired": "The Telegram launch data has expired; reopen the app from Telegram.",
    "future": "The Telegram launch data is dated in the future; check the phone's clock.",
    "missing_user": "The Telegram launch data names no user.",
    "bad_user": "The Telegram launch data has an invalid user.",
}


class InitDataError(Exception):
    """Rejected initData; `reason` is a stable code, `message` is for people."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.message = REASONS[reason]
        super().__init__(f"{reason}: {self.message}")


class TelegramUser(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int = Field(strict=True, gt=0, le=MAX_USER_ID)  # a JSON true is not id 1
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    is_bot: bool = False
    photo_url: str | None = None
    allows_write_to_pm: bool = False


@dataclass(frozen=True, slots=True)
class InitData:
    user: TelegramUser
    auth_date: datetime
    raw: str
    query_id: str | None = None
    start_param: str | None = None
    chat_type: str | None = None
    chat_instance: str | None = None


def bot_id_from_token(bot_token: str) -> int:
    head, _, _ = bot_token.partition(":")
    if not head.isdigit():
        raise ValueError("A bot token starts with the bot id: '123456:ABC...'")
    return int(head)


def _fields(raw: object) -> dict[str, str]:
    if raw is None or raw == "":
        raise InitDataError("missing")
    if not isinstance(raw, str):
        raise InitDataError("malformed")
    if len(raw) > MAX_INIT_DATA_CHARS:
        raise InitDataError("too_large")
    try:  # a lone surrogate (possible in a JSON string from the page) cannot be hashed
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InitDataError("malformed") from None
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeError):
        raise InitDataError("malformed") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if not key:
            raise InitDataError("malformed")
        if key in fields:
            raise InitDataError("duplicate_key")
        fields[key] = value
    return fields


def _verify(raw: str, bot_token: str, third_party: bool, test_env: bool) -> None:
    authenticator = TelegramAuthenticator(generate_secret_key(bot_token))
    try:
        if third_party:
            authenticator.validate_third_party(raw, bot_id_from_token(bot_token), None, test_env)
        else:
            authenticator.validate(raw, None)
    except ExpiredInitDataError:  # not raised: freshness is checked here with our clock
        raise InitDataError("expired") from None
    except InvalidInitDataError as exc:
        text = str(exc)
        # The library builds its own user/chat objects after the signature check and fails
        # on fields it does not know yet; the signature was fine, so we parse them ourselves.
        if text.startswith(_AFTER_SIGNATURE) or text.endswith("data must be a JSON object"):
            return
        if third_party:
            raise InitDataError(
                "bad_signature" if "Invalid data" in text else "malformed"
            ) from None
        raise InitDataError("bad_hash" if "Invalid data" in text else "malformed") from None


def validate_init_data(
    raw: object,
    bot_token: str,
    *,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    third_party: bool = False,
    test_env: bool = False,
) -> InitData:
    """Return the verified launch data or raise InitDataError with the reason."""
    fields = _fields(raw)
    assert isinstance(raw, str)
    if third_party:
        if not fields.get("signature"):
            raise InitDataError("missing_signature")
    elif not fields.get("hash"):
        raise InitDataError("missing_hash")
    elif not _HASH_RE.fullmatch(fields["hash"]):
        # Not a SHA-256 hex digest; also keeps non-ASCII out of hmac.compare_digest
        # (which raises TypeError on it).
        raise InitDataError("bad_hash")
    auth_date_text = fields.get("auth_date", "")
    if not auth_date_text.isdigit() or len(auth_date_text) > 12:
        raise InitDataError("malformed")
    _verify(raw, bot_token, third_party, test_env)
    auth_date = datetime.fromtimestamp(int(auth_date_text), UTC)
    current = now or datetime.now(UTC)
    if max_age is not None and current - auth_date > max_age:
        raise InitDataError("expired")
    # Signed launch data dated ahead (a bot token that leaked, a forged clock) would
    # otherwise stay valid until that date plus the max age.
    if auth_date - current > MAX_CLOCK_SKEW:
        raise InitDataError("future")
    if not fields.get("user"):
        raise InitDataError("missing_user")
    try:
        user = TelegramUser.model_validate(json.loads(fields["user"]))
    except (ValueError, ValidationError):
        raise InitDataError("bad_user") from None
    return InitData(
        user=user,
        auth_date=auth_date,
        raw=raw,
        query_id=fields.get("query_id"),
        start_param=fields.get("start_param"),
        chat_type=fields.get("chat_type"),
        chat_instance=fields.get("chat_instance"),
    )
