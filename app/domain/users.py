"""Members: upsert from Telegram data, profiles, lookup by username."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.cache import keys
from app.cache.writes import PendingWrite
from app.domain.db import Database
from app.domain.errors import InvalidInput, NotFound
from app.domain.models import Transaction, TxKind, User, table, utcnow
from app.domain.validation import clean_text, normalize_username, require_user_id
from app.domain.views import UserProfile, display_name, initials
from app.domain.welcome import WELCOME_BONUS, WELCOME_KEY

users_t = table(User)
tx_t = table(Transaction)


def _str_field(data: Mapping[str, Any], key: str, max_chars: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"Telegram field {key} must be text.")
    return (clean_text(value[: max_chars * 2], key, max_chars=max_chars * 2) or "")[
        :max_chars
    ] or None


def to_profile(user: Any) -> UserProfile:
    name = display_name(user.first_name, user.last_name, user.username)
    return UserProfile(
        id=user.id,
        username=user.username,
        name=name,
        initials=initials(name),
        photo_url=user.photo_url,
        balance=user.balance,
        joined_at=user.joined_at,
    )


def upsert_user(
    db: Database, data: Mapping[str, Any], *, now: datetime | None = None
) -> UserProfile:
    """Create or refresh a member from Telegram's user object (initData `user`).

    A new member gets a welcome bonus, booked as a reward so the ledger stays balanced.
    Telegram usernames move between accounts, so whoever held this one before loses it.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("Telegram user data must be an object.")
    user_id = require_user_id(data.get("id"))
    now = now or utcnow()
    username = _str_field(data, "username", 64)
    fields = {
        "username": username,
        "username_key": username.lower() if username else None,
        "first_name": _str_field(data, "first_name", 128) or "",
        "last_name": _str_field(data, "last_name", 128),
        "photo_url": _str_field(data, "photo_url", 512),
        "language_code": _str_field(data, "language_code", 16),
        "is_premium": data.get("is_premium") is True,
        "last_seen_at": now,
    }
    shown = ("username", "first_name", "last_name", "photo_url")
    # After the commit (or a failed one). Names show in the feed and on the leaderboard; a
    # visit that changed nothing visible (the usual case, on every app open) registers
    # nothing and must not empty those caches. Other members' histories also show this
    # name; they are not enumerated and follow within their TTL.
    with db.cache.writing() as write:
        _upsert(db, user_id, fields, shown, now, write)
    return get_profile(db, user_id)


def _upsert(
    db: Database,
    user_id: int,
    fields: dict[str, Any],
    shown: tuple[str, ...],
    now: datetime,
    write: PendingWrite,
) -> None:
    username = fields["username"]
    for attempt in range(2):
        try:
            with db.write() as s:
                before = s.execute(
                    select(*(users_t.c[name] for name in shown)).where(users_t.c.id == user_id)
                ).first()
                displaced: list[int] = []
                if username:
                    displaced = list(
                        s.execute(
                            update(users_t)
                            .where(
                                users_t.c.username_key == username.lower(),
                                users_t.c.id != user_id,
                            )
                            .values(username=None, username_key=None)
                            .returning(users_t.c.id)
                        ).scalars()
                    )
                if before is not None:
                    s.execute(update(users_t).where(users_t.c.id == user_id).values(**fields))
                else:
                    s.execute(
                        users_t.insert().values(
                            id=user_id, balance=WELCOME_BONUS, joined_at=now, **fields
                        )
                    )
                    s.execute(
                        tx_t.insert().values(
                            kind=TxKind.REWARD.value,
                            amount=WELCOME_BONUS,
                            actor_id=user_id,
                            to_user_id=user_id,
                            note="Welcome bonus",
                            idempotency_key=WELCOME_KEY,
                            created_at=now,
                        )
                    )
                visible = before is None or tuple(before) != tuple(fields[n] for n in shown)
                if visible or displaced:
                    # Announced before the commit, like every write (Cache.register).
                    write.register(
                        keys.profile(user_id),
                        *(keys.profile(other) for other in displaced),
                        keys.FEED,
                        keys.LEADERBOARD,
                    )
            break
        except IntegrityError:
            # Two first visits at once: the other insert won; update on the next pass.
            if attempt:
                raise


def get_profile(db: Database, user_id: Any) -> UserProfile:
    user_id = require_user_id(user_id)
    with db.read() as s:
        row = s.execute(select(users_t).where(users_t.c.id == user_id)).first()
    if row is None:
        raise NotFound("This member is not registered.")
    return to_profile(row)


def find_by_username(db: Database, username: Any) -> UserProfile | None:
    """Case-insensitive; '@Alice' finds alice. Not a username -> InvalidInput."""
    username_key = normalize_username(username)
    with db.read() as s:
        row = s.execute(
            select(users_t).where(users_t.c.username_key == username_key).limit(1)
        ).first()
    return to_profile(row) if row else None
