"""Checks for every value that reaches a service; hostile clients send anything."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from app.domain.errors import InvalidInput

# Telegram: a user id has at most 52 significant bits.
MAX_USER_ID = 2**52 - 1
MAX_TRANSFER = 1_000_000
MAX_NOTE_CHARS = 140
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
_INT_TEXT_RE = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)")
_MAX_TEXT_INPUT = 10_000  # longer input is rejected before any parsing
# Newline, space, and ZERO WIDTH JOINER (U+200D), which holds emoji sequences together.
_KEPT_CHARS = "\n \u200d"


def require_int(value: Any, what: str, *, minimum: int, maximum: int) -> int:
    """Accept an int, an integral float or a decimal string; reject everything else."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a whole number.")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(f"{what} must be a whole number.")
        value = int(value)
    elif isinstance(value, str):
        # Commas only as thousands separators: "1,5" is a decimal comma, not 15.
        text = value.strip().replace("_", "")
        if len(text) > 26 or not _INT_TEXT_RE.fullmatch(text):
            raise InvalidInput(f"{what} must be a whole number.")
        value = int(text.replace(",", ""))
    elif not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number.")
    if value < minimum:
        raise InvalidInput(f"{what} must be at least {minimum:,}.")
    if value > maximum:
        raise InvalidInput(f"{what} must be at most {maximum:,}.")
    return int(value)


def require_user_id(value: Any) -> int:
    return require_int(value, "User id", minimum=1, maximum=MAX_USER_ID)


def require_id(value: Any, what: str = "Id", *, maximum: int = 2**62) -> int:
    return require_int(value, what, minimum=1, maximum=maximum)


def parse_amount(value: Any, *, maximum: int = MAX_TRANSFER) -> int:
    try:
        return require_int(value, "Amount", minimum=1, maximum=maximum)
    except InvalidInput as exc:
        if "at least" in exc.message:
            raise InvalidInput("Amount must be a positive number of points.") from None
        raise


def normalize_username(value: Any) -> str:
    """'@Alice_1 ' -> 'alice_1', the key usernames are compared by."""
    if not isinstance(value, str) or len(value) > _MAX_TEXT_INPUT:
        raise InvalidInput("Enter a Telegram username like @alice.")
    name = value.strip().removeprefix("@")
    if not _USERNAME_RE.fullmatch(name):
        raise InvalidInput("Enter a Telegram username like @alice.")
    return name.lower()


def clean_text(value: Any, what: str, *, max_chars: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT_INPUT:
        raise InvalidInput(f"{what} must be text of at most {max_chars} characters.")
    # Drop control and format characters (bidi overrides, NULs) that would garble the feed.
    text = "".join(
        ch for ch in value if ch in _KEPT_CHARS or unicodedata.category(ch)[0] not in ("C",)
    ).strip()
    if len(text) > max_chars:
        raise InvalidInput(f"{what} must be at most {max_chars} characters.")
    return text or None


def clean_note(value: Any) -> str | None:
    return clean_text(value, "Note", max_chars=MAX_NOTE_CHARS)


# Keys the server books itself; a client using one could block its own daily reward.
RESERVED_KEY_PREFIXES = ("daily-reward", "welcome-bonus", "seed-")


def require_idempotency_key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY_RE.fullmatch(value):
        raise InvalidInput("Request key must be 8-128 characters of A-Z, a-z, 0-9, _ . : -")
    if value.lower().startswith(RESERVED_KEY_PREFIXES):
        raise InvalidInput("This request key is reserved.")
    return value


def require_limit(value: Any, *, maximum: int = 100) -> int:
    return require_int(value, "Limit", minimum=1, maximum=maximum)
