"""The daily reward: once per UTC day, booked as a reward transaction."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.cache import keys
from app.cache.writes import Patch
from app.domain import patches
from app.domain.db import Database
from app.domain.errors import AlreadyClaimed, NotFound
from app.domain.ledger import KeyedWrite, book, find_by_key, keyed_write
from app.domain.models import TxKind, User, table, utcnow
from app.domain.validation import require_user_id
from app.domain.views import RewardResult, RewardStatus

DAILY_REWARD = 50

users_t = table(User)


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
    at = now or utcnow()
    key = _day_key(at)

    def body(write: KeyedWrite) -> tuple[RewardResult, list[Patch]]:
        row = write.session.execute(
            update(users_t)
            .where(users_t.c.id == user_id)
            .values(balance=users_t.c.balance + DAILY_REWARD)
            .returning(*users_t.c)
        ).first()
        if row is None:
            raise NotFound("Your account is not registered yet.")
        balance = int(row.balance)
        reward = book(
            write.session,
            kind=TxKind.REWARD,
            amount=DAILY_REWARD,
            actor_id=user_id,
            key=key,
            now=at,
            recipient=row,
            note="Daily reward",
        )
        # After the commit (or a failed one): my balance, the feed, the leaderboard (both
        # periods) get new generations (announced before the commit, see Cache.register);
        # what this write knows is patched in when exact.
        write.cache.register(
            keys.profile(user_id), keys.history(user_id), keys.FEED, keys.LEADERBOARD
        )
        result = RewardResult(
            transaction_id=reward.id,
            amount=DAILY_REWARD,
            balance=balance,
            next_claim_at=next_claim_at(at),
        )
        return result, patches.after_ledger_write({user_id: (row, balance)}, reward)

    def claimed(_s: Session, _previous: Any) -> RewardResult:
        # The key is the day: a second claim (or two presses racing) finds today's.
        raise AlreadyClaimed(f"Today's reward is claimed. Next one in {_wait_text(at)}.")

    return keyed_write(db, user_id, key, body, claimed)
