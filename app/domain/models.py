"""SQLModel tables. Portable between PostgreSQL (psycopg) and SQLite.

Times are timezone-aware UTC (SQLModel's UTCDateTime refuses naive ones); SQLite stores
them without an offset and PostgreSQL as timestamptz, and both read back as UTC.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class TxKind(enum.StrEnum):
    TRANSFER = "transfer"
    PURCHASE = "purchase"
    REWARD = "reward"


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_users_balance_nonnegative"),
        # Leaderboard: ORDER BY balance DESC, id ASC.
        Index("ix_users_balance_id", "balance", "id"),
    )

    # Telegram user ids exceed 2**31, so BIGINT and never autoincrement.
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    username: str | None = Field(default=None, max_length=64)
    # Lower-cased username for case-insensitive lookup of transfer recipients; unique, so
    # two first visits with one username cannot both keep it (NULLs do not collide).
    username_key: str | None = Field(default=None, max_length=64, index=True, unique=True)
    first_name: str = Field(default="", max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    photo_url: str | None = Field(default=None, max_length=512)
    language_code: str | None = Field(default=None, max_length=16)
    is_premium: bool = False
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    joined_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class Transaction(SQLModel, table=True):
    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_transactions_amount_positive"),
        CheckConstraint("kind IN ('transfer', 'purchase', 'reward')", name="ck_transactions_kind"),
        # One result per action: a retried idempotency key finds the first row.
        UniqueConstraint("actor_id", "idempotency_key", name="uq_transactions_actor_key"),
        # Feed: newest first with keyset paging on (created_at, id).
        Index("ix_transactions_created_id", "created_at", "id"),
        # A user's history, both directions; weekly earnings per recipient.
        Index("ix_transactions_from_created", "from_user_id", "created_at"),
        Index("ix_transactions_to_created", "to_user_id", "created_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The member who acted: sender, buyer, or the member rewarded.
    actor_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    from_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    to_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    item_id: int | None = Field(default=None, foreign_key="market_items.id")
    note: str | None = Field(default=None, max_length=280)
    idempotency_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class MarketItem(SQLModel, table=True):
    __tablename__ = "market_items"
    __table_args__ = (
        CheckConstraint("price > 0", name="ck_market_items_price_positive"),
        CheckConstraint("stock >= 0", name="ck_market_items_stock_nonnegative"),
        Index("ix_market_items_active_price", "active", "price"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    price: int = Field(sa_column=Column(BigInteger, nullable=False))
    stock: int = 0
    image: str = Field(default="", max_length=512)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Purchase(SQLModel, table=True):
    __tablename__ = "purchases"
    __table_args__ = (Index("ix_purchases_user_created", "user_id", "created_at"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    item_id: int = Field(foreign_key="market_items.id")
    price: int = Field(sa_column=Column(BigInteger, nullable=False))
    transaction_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow)


class Banner(SQLModel, table=True):
    __tablename__ = "banners"
    __table_args__ = (Index("ix_banners_active_priority", "active", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    subtitle: str = Field(default="", max_length=240)
    image: str = Field(default="", max_length=512)
    link: str = Field(default="", max_length=512)
    priority: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


__all__ = ["Banner", "MarketItem", "Purchase", "Transaction", "TxKind", "User", "utcnow"]


def table(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for the SQLAlchemy Core statements the writers use
    (SQLModel sets `__table__` on every `table=True` class; its type hints do not say so)."""
    found = getattr(model, "__table__", None)
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return found
