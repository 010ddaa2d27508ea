"""The daily reward: once per UTC day, booked as a reward transaction."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.cache import keys
from app.domain import patches
from app.domain.db import Database
from app.domain.errors import AlreadyClaimed, NotFound
from app.domain.ledger import book, find_by_key
from app.domain.models import Transaction, TxKind, User, utcnow
from app.domain.validation import require_user_id
from app.domain.views import RewardResult, RewardStatus

DAILY_REWARD = 50

users_t = User.__table__
tx_t = Transaction.__table__


def _day_key(now: datetime) -> str:
    # The key is the day itself, so the unique (actor, key) index allows one claim a day
    # even when two presses race; no client-side key is needed.
    return f"daily-reward:{now.astimezone(UTC).date().isoformat()}"


def next_claim_at(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time.min, UTC)


def _wait_text(now: datetime) -> str:
    left = next_claim_at(now) - now
    hours, rest = divmod(int(left.total_seconds()), 3600)
    minutes = max(1, rest // 60) if not hours else rest // 60
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def reward_status(db: Database, user_id: Any, *, now: datetime | None = None) -> RewardStatus:
    user_id = require_user_id(user_id)
    now = now or utcnow()
    with db.read() as s:
        claimed = find_by_key(s, user_id, _day_key(now)) is not None
    return RewardStatus(
        claimed_today=claimed, next_claim_at=next_claim_at(now), amount=DAILY_REWARD
    )


def claim_daily_reward(db: Database, user_id: Any, *, now: datetime | None = None) -> RewardResult:
    user_id = require_user_id(user_id)
    now = now or utcnow()
    key = _day_key(now)
    already = AlreadyClaimed(f"Today's reward is claimed. Next one in {_wait_text(now)}.")
    # After the commit (or a failed one): my balance, the feed, the leaderboard (both
    # periods) get new generations; what this write knows is patched in when exact.
    with db.cache.writing() as write:
        try:
            with db.write() as s:
                if find_by_key(s, user_id, key) is not None:
                    raise already
                row = s.execute(
                    update(users_t)
                    .where(users_t.c.id == user_id)
                    .values(balance=users_t.c.balance + DAILY_REWARD)
                    .returning(*users_t.c)
                ).first()
                if row is None:
                    raise NotFound("Your account is not registered yet.")
                balance = int(row.balance)
                reward = book(
                    s,
                    kind=TxKind.REWARD,
                    amount=DAILY_REWARD,
                    actor_id=user_id,
                    key=key,
                    now=now,
                    recipient=row,
                    note="Daily reward",
                )
                # Announced before the commit (see Cache.register).
                write.register(
                    keys.profile(user_id), keys.history(user_id), keys.FEED, keys.LEADERBOARD
                )
                after = patches.after_ledger_write({user_id: (row, balance)}, reward)
            write.committed(after)
        except IntegrityError:
            raise already from None
    return RewardResult(
        transaction_id=reward.id,
        amount=DAILY_REWARD,
        balance=int(balance),
        next_claim_at=next_claim_at(now),
    )
