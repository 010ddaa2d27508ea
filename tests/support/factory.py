"""The test-data factory: members (with the welcome bonus), balances booked as the ledger
books them, items and banners, and reads of what the tests check."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text, update

from app.domain.db import Database
from app.domain.ledger import books, books_balanced
from app.domain.models import Banner, MarketItem, Transaction, TxKind, User, utcnow
from app.domain.users import upsert_user
from app.domain.views import UserProfile

# Above 2**32 on purpose: Telegram ids need BIGINT columns.
FIRST_TEST_ID = 7_000_000_001
LONG_AGO = timedelta(days=30)


def new_key(prefix: str = "test") -> str:
    """A fresh idempotency key, as a client would make one per button press."""
    return f"{prefix}-{uuid.uuid4().hex}"


class Factory:
    """Members (through upsert_user, so they get the welcome bonus), items and banners.

    Balances other than the welcome bonus are booked as transactions (a reward to add,
    a purchase without an item to take away), so the books stay balanced.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids = itertools.count(FIRST_TEST_ID)
        self._n = itertools.count(1)

    def member(
        self,
        username: str | None = "",
        *,
        balance: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        user_id: int | None = None,
        now: datetime | None = None,
        joined_at: datetime | None = None,
    ) -> UserProfile:
        """A member; `joined_at` defaults to long ago, past the welcome lock
        (app/domain/welcome.py), so its welcome points can be sent like any others."""
        uid = user_id if user_id is not None else next(self._ids)
        if username == "":
            username = f"member_{uid}"
        profile = upsert_user(
            self.db,
            {"id": uid, "username": username, "first_name": first_name, "last_name": last_name},
            now=now,
        )
        joined = joined_at or (now or utcnow()) - LONG_AGO
        with self.db.write() as s:
            s.execute(
                update(User.__table__).where(User.__table__.c.id == uid).values(joined_at=joined)
            )
        profile = replace(profile, joined_at=joined)
        if balance is not None and balance != profile.balance:
            self.adjust(uid, balance - profile.balance, now=now)
            profile = _replace_balance(profile, balance)
        return profile

    def adjust(self, user_id: int, delta: int, *, now: datetime | None = None) -> None:
        """Book `delta` points for a member: a reward if positive, a debit if negative."""
        if delta == 0:
            return
        with self.db.write() as s:
            s.execute(
                update(User.__table__)
                .where(User.__table__.c.id == user_id)
                .values(balance=User.__table__.c.balance + delta)
            )
            s.execute(
                Transaction.__table__.insert().values(
                    kind=(TxKind.REWARD if delta > 0 else TxKind.PURCHASE).value,
                    amount=abs(delta),
                    actor_id=user_id,
                    to_user_id=user_id if delta > 0 else None,
                    from_user_id=None if delta > 0 else user_id,
                    note="test adjustment",
                    idempotency_key=new_key("adjust"),
                    created_at=now or utcnow(),
                )
            )

    def key(self, prefix: str = "test") -> str:
        return new_key(prefix)

    def assert_books(self) -> dict[str, int]:
        """The ledger invariant: balances + spending == rewards, nothing negative."""
        report = books(self.db)
        assert books_balanced(report), f"books do not balance: {report}"
        return report

    def members(self, count: int, *, balance: int | None = None) -> list[UserProfile]:
        return [self.member(balance=balance) for _ in range(count)]

    def item(
        self,
        *,
        price: int = 10,
        stock: int = 5,
        active: bool = True,
        title: str | None = None,
    ) -> int:
        with self.db.write() as s:
            return int(
                s.execute(
                    MarketItem.__table__.insert()
                    .values(
                        title=title or f"Item {next(self._n)}",
                        description="A test item",
                        price=price,
                        stock=stock,
                        image="/demo/test.svg",
                        active=active,
                        created_at=utcnow(),
                    )
                    .returning(MarketItem.__table__.c.id)
                ).scalar_one()
            )

    def banner(
        self,
        title: str,
        *,
        priority: int = 0,
        active: bool = True,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> int:
        with self.db.write() as s:
            return int(
                s.execute(
                    Banner.__table__.insert()
                    .values(
                        title=title,
                        subtitle="",
                        image="",
                        link="",
                        priority=priority,
                        active=active,
                        starts_at=starts_at,
                        ends_at=ends_at,
                    )
                    .returning(Banner.__table__.c.id)
                ).scalar_one()
            )

    def stock(self, item_id: int) -> int:
        with self.db.read() as s:
            return int(
                s.execute(
                    text("SELECT stock FROM market_items WHERE id = :id"), {"id": item_id}
                ).scalar_one()
            )

    def balance(self, user_id: int) -> int:
        with self.db.read() as s:
            return int(
                s.execute(
                    text("SELECT balance FROM users WHERE id = :id"), {"id": user_id}
                ).scalar_one()
            )

    def count(self, table: str, where: str = "1 = 1", **params: Any) -> int:
        with self.db.read() as s:
            return int(
                s.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()
            )


def _replace_balance(profile: UserProfile, balance: int) -> UserProfile:
    return replace(profile, balance=balance)
