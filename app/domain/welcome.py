"""The rule against welcome-bonus farming.

Every new Telegram id gets WELCOME_BONUS points on its first open. Without a rule, throwaway
accounts would turn into points sent to one member, and those points into goods. So for the
first WELCOME_LOCK after joining, the welcome points can be spent in the market but not sent:
a transfer may move only what the member holds beyond the welcome points not yet spent.
Points received from others, and daily rewards, can be sent at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.models import Transaction, TxKind, table

WELCOME_BONUS = 100
WELCOME_KEY = "welcome-bonus"
WELCOME_LOCK = timedelta(days=7)

tx_t = table(Transaction)


def locked_points(s: Session, user: Any, now: datetime) -> int:
    """How many of `user`'s points cannot be sent at `now` (a row with id and joined_at)."""
    if _aware(now) >= unlocks_at(user):
        return 0
    spent = s.execute(
        select(func.coalesce(func.sum(tx_t.c.amount), 0)).where(
            tx_t.c.from_user_id == user.id, tx_t.c.kind == TxKind.PURCHASE.value
        )
    ).scalar_one()
    return max(0, WELCOME_BONUS - int(spent))


def unlocks_at(user: Any) -> datetime:
    return _aware(user.joined_at) + WELCOME_LOCK


def _aware(at: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; every stamp is stored in UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
