"""Leaderboards: by balance, and by points earned this week; with my own rank."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from app.domain.db import Database
from app.domain.models import Transaction, TxKind, User, utcnow
from app.domain.validation import require_limit, require_user_id
from app.domain.views import Leaderboard, LeaderEntry, display_name, initials

users_t = User.__table__
tx_t = Transaction.__table__
EARNING_KINDS = (TxKind.REWARD.value, TxKind.TRANSFER.value)


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week that contains `now`."""
    day = now.astimezone(UTC).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time.min, UTC)


def _entry(rank: int, row: Any, score: int) -> LeaderEntry:
    name = display_name(row.first_name, row.last_name, row.username)
    return LeaderEntry(
        rank=rank,
        user_id=int(row.id),
        name=name,
        initials=initials(name),
        username=row.username,
        photo_url=row.photo_url,
        score=int(score),
    )


def by_balance(db: Database, user_id: Any = None, *, limit: Any = 50) -> Leaderboard:
    limit = require_limit(limit)
    me_id = require_user_id(user_id) if user_id is not None else None
    with db.read() as s:
        rows = s.execute(
            select(users_t).order_by(users_t.c.balance.desc(), users_t.c.id).limit(limit)
        ).all()
        members = int(s.execute(select(func.count()).select_from(users_t)).scalar_one())
        me = None
        if me_id is not None:
            mine = s.execute(select(users_t).where(users_t.c.id == me_id)).first()
            if mine is not None:
                ahead = s.execute(
                    select(func.count())
                    .select_from(users_t)
                    .where(
                        or_(
                            users_t.c.balance > mine.balance,
                            and_(users_t.c.balance == mine.balance, users_t.c.id < mine.id),
                        )
                    )
                ).scalar_one()
                me = _entry(int(ahead) + 1, mine, mine.balance)
    entries = [_entry(i + 1, r, r.balance) for i, r in enumerate(rows)]
    return Leaderboard(period="all", entries=entries, me=me, members=members)


def this_week(
    db: Database, user_id: Any = None, *, limit: Any = 50, now: datetime | None = None
) -> Leaderboard:
    """Points received this week (rewards and transfers in), highest first."""
    limit = require_limit(limit)
    me_id = require_user_id(user_id) if user_id is not None else None
    since = week_start(now or utcnow())
    earned = (
        select(tx_t.c.to_user_id.label("uid"), func.sum(tx_t.c.amount).label("score"))
        .where(
            tx_t.c.created_at >= since,
            tx_t.c.kind.in_(EARNING_KINDS),
            tx_t.c.to_user_id.is_not(None),
        )
        .group_by(tx_t.c.to_user_id)
        .subquery()
    )
    with db.read() as s:
        rows = s.execute(
            select(users_t, earned.c.score)
            .join(earned, earned.c.uid == users_t.c.id)
            .order_by(earned.c.score.desc(), users_t.c.id)
            .limit(limit)
        ).all()
        members = int(s.execute(select(func.count()).select_from(earned)).scalar_one())
        me = None
        if me_id is not None:
            mine = s.execute(
                select(users_t, func.coalesce(earned.c.score, 0).label("score"))
                .outerjoin(earned, earned.c.uid == users_t.c.id)
                .where(users_t.c.id == me_id)
            ).first()
            if mine is not None:
                ahead = s.execute(
                    select(func.count())
                    .select_from(earned)
                    .where(
                        or_(
                            earned.c.score > mine.score,
                            and_(earned.c.score == mine.score, earned.c.uid < mine.id),
                        )
                    )
                ).scalar_one()
                me = _entry(int(ahead) + 1, mine, mine.score)
    entries = [_entry(i + 1, r, r.score) for i, r in enumerate(rows)]
    return Leaderboard(period="week", entries=entries, me=me, members=members)
