"""The community feed and a member's own history: newest first, keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.orm import aliased

from app.domain.db import Database
from app.domain.errors import InvalidInput
from app.domain.models import MarketItem, Transaction, User, table
from app.domain.validation import require_limit, require_user_id
from app.domain.views import FeedItem, FeedPage, display_name

DEFAULT_PAGE = 20
_CURSOR_SEP = "~"
_MAX_TX_ID = 2**63 - 1


def encode_cursor(created_at: datetime, tx_id: int) -> str:
    return f"{created_at.isoformat()}{_CURSOR_SEP}{tx_id}"


def decode_cursor(cursor: Any) -> tuple[datetime, int]:
    if not isinstance(cursor, str) or len(cursor) > 64 or _CURSOR_SEP not in cursor:
        raise InvalidInput("Invalid page cursor.")
    stamp, _, tx_id = cursor.partition(_CURSOR_SEP)
    try:
        stamp_at = datetime.fromisoformat(stamp)
        if stamp_at.tzinfo is None:
            stamp_at = stamp_at.replace(tzinfo=UTC)
        # Year 1 or 9999 with an offset leaves datetime's range in UTC (OverflowError).
        stamp_at = stamp_at.astimezone(UTC)
        number = int(tx_id)
    except (ValueError, OverflowError):
        raise InvalidInput("Invalid page cursor.") from None
    # Ids are BIGINT; a bigger number would overflow the driver (SQLite: OverflowError).
    if not 0 < number <= _MAX_TX_ID:
        raise InvalidInput("Invalid page cursor.")
    return stamp_at, number


def _base_query() -> Select[Any]:
    tx = table(Transaction)
    sender = aliased(table(User), name="sender")
    recipient = aliased(table(User), name="recipient")
    item = table(MarketItem)
    return (
        select(
            tx.c.id,
            tx.c.kind,
            tx.c.amount,
            tx.c.created_at,
            tx.c.note,
            tx.c.from_user_id,
            tx.c.to_user_id,
            sender.c.first_name.label("from_first"),
            sender.c.last_name.label("from_last"),
            sender.c.username.label("from_username"),
            recipient.c.first_name.label("to_first"),
            recipient.c.last_name.label("to_last"),
            recipient.c.username.label("to_username"),
            item.c.title.label("item_title"),
        )
        .outerjoin(sender, sender.c.id == tx.c.from_user_id)
        .outerjoin(recipient, recipient.c.id == tx.c.to_user_id)
        .outerjoin(item, item.c.id == tx.c.item_id)
        .order_by(tx.c.created_at.desc(), tx.c.id.desc())
    )


def _item(row: Any) -> FeedItem:
    return FeedItem(
        id=int(row.id),
        kind=row.kind,
        amount=int(row.amount),
        created_at=row.created_at,
        from_id=row.from_user_id,
        from_name=(
            display_name(row.from_first, row.from_last, row.from_username)
            if row.from_user_id
            else None
        ),
        to_id=row.to_user_id,
        to_name=(
            display_name(row.to_first, row.to_last, row.to_username) if row.to_user_id else None
        ),
        item_title=row.item_title,
        note=row.note,
    )


def _page(db: Database, query: Select[Any], cursor: Any, limit: Any) -> FeedPage:
    limit = require_limit(limit)
    tx = table(Transaction)
    if cursor is not None:
        stamp, tx_id = decode_cursor(cursor)
        query = query.where(tuple_(tx.c.created_at, tx.c.id) < tuple_(stamp, tx_id))
    with db.read() as s:
        rows = s.execute(query.limit(limit + 1)).all()
    items = [_item(r) for r in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more and items else None
    return FeedPage(items=items, next_cursor=next_cursor)


def feed_page(db: Database, cursor: Any = None, limit: Any = DEFAULT_PAGE) -> FeedPage:
    return _page(db, _base_query(), cursor, limit)


def user_history(
    db: Database, user_id: Any, cursor: Any = None, limit: Any = DEFAULT_PAGE
) -> FeedPage:
    user_id = require_user_id(user_id)
    tx = table(Transaction)
    query = _base_query().where(or_(tx.c.from_user_id == user_id, tx.c.to_user_id == user_id))
    return _page(db, query, cursor, limit)
