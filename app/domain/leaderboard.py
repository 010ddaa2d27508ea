"""Leaderboards: by balance, and by points earned this week; with my own rank."""

from __future__ import annotations

from array import array
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Subquery, and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain.db import Database
from app.domain.models import Transaction, TxKind, User, table, utcnow
from app.domain.validation import require_limit, require_user_id
from app.domain.views import (
    Leaderboard,
    LeaderEntry,
    Standings,
    UserProfile,
    display_name,
    initials,
)

users_t = table(User)
tx_t = table(Transaction)
EARNING_KINDS = (TxKind.REWARD.value, TxKind.TRANSFER.value)
PERIODS = ("all", "week")
# Members on the Leaderboard screen: the size that is read, warmed and patched.
TOP = 50


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


def _earned(now: datetime | None) -> Subquery:
    return (
        select(tx_t.c.to_user_id.label("uid"), func.sum(tx_t.c.amount).label("score"))
        .where(
            tx_t.c.created_at >= week_start(now or utcnow()),
            tx_t.c.kind.in_(EARNING_KINDS),
            tx_t.c.to_user_id.is_not(None),
        )
        .group_by(tx_t.c.to_user_id)
        .subquery()
    )


def _my_balance_entry(s: Session, me_id: int) -> LeaderEntry | None:
    mine = s.execute(select(users_t).where(users_t.c.id == me_id)).first()
    if mine is None:
        return None
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
    return _entry(int(ahead) + 1, mine, mine.balance)


def _my_week_entry(s: Session, me_id: int, earned: Subquery) -> LeaderEntry | None:
    mine = s.execute(
        select(users_t, func.coalesce(earned.c.score, 0).label("score"))
        .outerjoin(earned, earned.c.uid == users_t.c.id)
        .where(users_t.c.id == me_id)
    ).first()
    if mine is None:
        return None
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
    return _entry(int(ahead) + 1, mine, mine.score)


def by_balance(db: Database, user_id: Any = None, *, limit: Any = 50) -> Leaderboard:
    limit = require_limit(limit)
    me_id = require_user_id(user_id) if user_id is not None else None
    with db.read() as s:
        rows = s.execute(
            select(users_t).order_by(users_t.c.balance.desc(), users_t.c.id).limit(limit)
        ).all()
        members = int(s.execute(select(func.count()).select_from(users_t)).scalar_one())
        me = _my_balance_entry(s, me_id) if me_id is not None else None
    entries = [_entry(i + 1, r, r.balance) for i, r in enumerate(rows)]
    return Leaderboard(period="all", entries=entries, me=me, members=members)


def this_week(
    db: Database, user_id: Any = None, *, limit: Any = 50, now: datetime | None = None
) -> Leaderboard:
    """Points received this week (rewards and transfers in), highest first."""
    limit = require_limit(limit)
    me_id = require_user_id(user_id) if user_id is not None else None
    earned = _earned(now)
    with db.read() as s:
        rows = s.execute(
            select(users_t, earned.c.score)
            .join(earned, earned.c.uid == users_t.c.id)
            .order_by(earned.c.score.desc(), users_t.c.id)
            .limit(limit)
        ).all()
        members = int(s.execute(select(func.count()).select_from(earned)).scalar_one())
        me = _my_week_entry(s, me_id, earned) if me_id is not None else None
    entries = [_entry(i + 1, r, r.score) for i, r in enumerate(rows)]
    return Leaderboard(period="week", entries=entries, me=me, members=members)


def rank_of(
    db: Database, period: str, user_id: Any, *, now: datetime | None = None
) -> LeaderEntry | None:
    """My place alone: two statements, for when there is no cache to share a snapshot."""
    me_id = require_user_id(user_id)
    with db.read() as s:
        if period == "week":
            return _my_week_entry(s, me_id, _earned(now))
        return _my_balance_entry(s, me_id)


def standings(db: Database, period: str, *, now: datetime | None = None) -> Standings:
    """Everyone's place in one statement, as packed arrays: with a cache, every member's
    rank after a write comes from this one snapshot instead of a query per member."""
    with db.read() as s:
        if period == "week":
            earned = _earned(now)
            rows = s.execute(
                select(earned.c.uid, earned.c.score).order_by(earned.c.score.desc(), earned.c.uid)
            ).all()
        else:
            rows = s.execute(
                select(users_t.c.id, users_t.c.balance).order_by(
                    users_t.c.balance.desc(), users_t.c.id
                )
            ).all()
    ids = array("q", (int(r[0]) for r in rows))
    scores = array("q", (int(r[1]) for r in rows))
    return Standings(period=period, ids=ids.tobytes(), scores=scores.tobytes())


def entry_from_standings(table: Standings, me: UserProfile) -> LeaderEntry:
    """My rank is my position in the snapshot (ordered by score, then id, like the board)."""
    ids = array("q")
    ids.frombytes(table.ids)
    try:
        index = ids.index(me.id)
    except ValueError:
        # Not on this week's board: after everyone who earned something, like this_week.
        return LeaderEntry(
            rank=len(ids) + 1,
            user_id=me.id,
            name=me.name,
            initials=me.initials,
            username=me.username,
            photo_url=me.photo_url,
            score=me.balance if table.period == "all" else 0,
        )
    scores = array("q")
    scores.frombytes(table.scores)
    return LeaderEntry(
        rank=index + 1,
        user_id=me.id,
        name=me.name,
        initials=me.initials,
        username=me.username,
        photo_url=me.photo_url,
        score=int(scores[index]),
    )
