"""Numbers and times as the screens show them."""

from __future__ import annotations

from datetime import UTC, datetime


def points(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # narrow no-break space groups digits


def ago(moment: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "yesterday" if days == 1 else f"{days} days ago"
