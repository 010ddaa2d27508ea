"""The market: items, an item page, buying, a member's purchases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.cache import keys
from app.cache.writes import Patch
from app.domain import patches
from app.domain.db import Database
from app.domain.errors import IdempotencyConflict, InsufficientBalance, NotFound, OutOfStock
from app.domain.ledger import KeyedWrite, book, keyed_write
from app.domain.models import MarketItem, Purchase, TxKind, User, table, utcnow
from app.domain.validation import (
    require_id,
    require_idempotency_key,
    require_limit,
    require_user_id,
)
from app.domain.views import (
    MarketItemView,
    PurchaseResult,
    PurchaseView,
)

items_t = table(MarketItem)
users_t = table(User)
purchases_t = table(Purchase)
# market_items.id is INTEGER (32 bits) on PostgreSQL: a bigger id is a DataError there.
MAX_ITEM_ID = 2**31 - 1


def _view(row: Any) -> MarketItemView:
    return MarketItemView(
        id=int(row.id),
        title=row.title,
        description=row.description,
        price=int(row.price),
        stock=int(row.stock),
        image=row.image,
    )


def list_items(db: Database) -> list[MarketItemView]:
    with db.read() as s:
        rows = s.execute(
            select(items_t)
            .where(items_t.c.active.is_(True))
            .order_by(items_t.c.price, items_t.c.id)
        ).all()
    return [_view(r) for r in rows]


def get_item(db: Database, item_id: Any) -> MarketItemView:
    item_id = require_id(item_id, "Item id", maximum=MAX_ITEM_ID)
    with db.read() as s:
        row = s.execute(
            select(items_t).where(items_t.c.id == item_id, items_t.c.active.is_(True))
        ).first()
    if row is None:
        raise NotFound("This item is not in the market.")
    return _view(row)


def buy(
    db: Database, user_id: Any, item_id: Any, idempotency_key: Any, *, now: datetime | None = None
) -> PurchaseResult:
    """Take one from stock and charge the price, both or neither."""
    user_id = require_user_id(user_id)
    item_id = require_id(item_id, "Item id", maximum=MAX_ITEM_ID)
    key = require_idempotency_key(idempotency_key)
    at = now or utcnow()

    def body(write: KeyedWrite) -> tuple[PurchaseResult, list[Patch]]:
        s = write.session
        # Lock the buyer first: a retry of the same key waits here until the first
        # attempt commits, then finds its result instead of a sold-out item.
        buyer = s.execute(
            select(users_t.c.id).where(users_t.c.id == user_id).with_for_update()
        ).first()
        write.recheck()
        if buyer is None:
            raise NotFound("Your account is not registered yet.")
        # The conditional decrement is the lock: concurrent buyers of the last one
        # queue on this row, and only those that still see stock > 0 get it.
        item = s.execute(
            update(items_t)
            .where(items_t.c.id == item_id, items_t.c.active.is_(True), items_t.c.stock > 0)
            .values(stock=items_t.c.stock - 1)
            .returning(items_t.c.price, items_t.c.title)
        ).first()
        if item is None:
            exists = s.execute(
                select(items_t.c.id).where(items_t.c.id == item_id, items_t.c.active.is_(True))
            ).first()
            if exists is None:
                raise NotFound("This item is not in the market.")
            raise OutOfStock("Sold out: this item is out of stock.")
        price = int(item.price)
        buyer_row = s.execute(
            update(users_t)
            .where(users_t.c.id == user_id, users_t.c.balance >= price)
            .values(balance=users_t.c.balance - price)
            .returning(*users_t.c)
        ).first()
        if buyer_row is None:
            have = s.execute(select(users_t.c.balance).where(users_t.c.id == user_id)).scalar_one()
            raise InsufficientBalance(
                f"Not enough points: you have {int(have):,}, this costs {price:,}."
            )
        bought = book(
            s,
            kind=TxKind.PURCHASE,
            amount=price,
            actor_id=user_id,
            key=key,
            now=at,
            sender=buyer_row,
            item_id=item_id,
            item_title=item.title,
            note=item.title[:280],
        )
        purchase_id = s.execute(
            purchases_t.insert()
            .values(
                user_id=user_id,
                item_id=item_id,
                price=price,
                transaction_id=bought.id,
                created_at=at,
            )
            .returning(purchases_t.c.id)
        ).scalar_one()
        balance = int(buyer_row.balance)
        # After the commit (or a failed one): the buyer's profile, history and purchases,
        # stock, the feed, the board get new generations (announced before the commit,
        # see Cache.register); the ledger's entries this write knows are patched in.
        write.cache.register(
            keys.profile(user_id),
            keys.history(user_id),
            keys.purchases(user_id),
            keys.MARKET,
            keys.FEED,
            keys.LEADERBOARD,
        )
        planned = patches.after_ledger_write({user_id: (buyer_row, balance)}, bought)
        result = PurchaseResult(
            purchase_id=int(purchase_id),
            transaction_id=bought.id,
            item_id=item_id,
            title=item.title,
            price=price,
            balance=balance,
        )
        return result, planned

    return keyed_write(db, user_id, key, body, lambda s, previous: _replay(s, previous, item_id))


def _replay(s: Session, previous: Any, item_id: int) -> PurchaseResult:
    if previous.kind != TxKind.PURCHASE.value or previous.item_id != item_id:
        raise IdempotencyConflict("This request key was already used for a different action.")
    purchase = s.execute(
        select(purchases_t.c.id, items_t.c.title)
        .join(items_t, items_t.c.id == purchases_t.c.item_id)
        .where(purchases_t.c.transaction_id == previous.id)
    ).one()
    balance = s.execute(
        select(users_t.c.balance).where(users_t.c.id == previous.actor_id)
    ).scalar_one()
    return PurchaseResult(
        purchase_id=int(purchase.id),
        transaction_id=int(previous.id),
        item_id=item_id,
        title=purchase.title,
        price=int(previous.amount),
        balance=int(balance),
        replayed=True,
    )


def user_purchases(db: Database, user_id: Any, *, limit: Any = 50) -> list[PurchaseView]:
    user_id = require_user_id(user_id)
    limit = require_limit(limit)
    with db.read() as s:
        rows = s.execute(
            select(
                purchases_t.c.id,
                purchases_t.c.item_id,
                purchases_t.c.price,
                purchases_t.c.created_at,
                items_t.c.title,
                items_t.c.image,
            )
            .join(items_t, items_t.c.id == purchases_t.c.item_id)
            .where(purchases_t.c.user_id == user_id)
            .order_by(purchases_t.c.created_at.desc(), purchases_t.c.id.desc())
            .limit(limit)
        ).all()
    return [
        PurchaseView(
            id=int(r.id),
            item_id=int(r.item_id),
            title=r.title,
            image=r.image,
            price=int(r.price),
            created_at=r.created_at,
        )
        for r in rows
    ]
