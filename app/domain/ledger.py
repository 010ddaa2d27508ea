"""What all writes share: the keyed-write skeleton, the ledger row and the books invariant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.cache.writes import Patch, PendingWrite
from app.domain.db import Database
from app.domain.models import MarketItem, Transaction, TxKind, User, table
from app.domain.views import FeedItem, display_name

tx_t = table(Transaction)


def find_by_key(session: Session, actor_id: int, key: str) -> Any | None:
    return session.execute(
        select(tx_t).where(tx_t.c.actor_id == actor_id, tx_t.c.idempotency_key == key)
    ).first()


R = TypeVar("R")


class _Replay(Exception):
    def __init__(self, previous: Any) -> None:
        self.previous = previous


@dataclass(frozen=True, slots=True)
class KeyedWrite:
    """What a keyed write's body works with, inside its transaction."""

    session: Session
    cache: PendingWrite
    actor_id: int
    key: str

    def recheck(self) -> None:
        """Call after taking row locks: a retry of this key may have committed while this
        transaction waited for them (READ COMMITTED sees it now), and the first result
        must win over a fresh check of balances or stock."""
        previous = find_by_key(self.session, self.actor_id, self.key)
        if previous is not None:
            raise _Replay(previous)


def keyed_write(
    db: Database,
    actor_id: int,
    key: str,
    body: Callable[[KeyedWrite], tuple[R, list[Patch]]],
    replay: Callable[[Session, Any], R],
) -> R:
    """One write under the member's idempotency key, as transfers, purchases and rewards do
    it: a key already booked answers `replay(session, its transaction)` instead of writing
    again, before the body, after its row locks (`recheck`) and when a concurrent retry
    committed the same key between our lookup and our insert (the unique index's
    IntegrityError). The body registers its cache families (`write.cache.register`) and
    returns its result with the patches its commit makes exact (Cache.writing)."""
    with db.cache.writing() as pending:
        try:
            with db.write() as s:
                write = KeyedWrite(s, pending, actor_id, key)
                try:
                    write.recheck()
                    result, planned = body(write)
                except _Replay as again:
                    return replay(s, again.previous)
            pending.committed(planned)
            return result
        except IntegrityError:
            with db.read() as s:
                previous = find_by_key(s, actor_id, key)
                if previous is None:
                    raise
                return replay(s, previous)


def _name(member: Any | None) -> str | None:
    return display_name(member.first_name, member.last_name, member.username) if member else None


def book(
    s: Session,
    *,
    kind: TxKind,
    amount: int,
    actor_id: int,
    key: str,
    now: datetime,
    sender: Any | None = None,
    recipient: Any | None = None,
    item_id: int | None = None,
    item_title: str | None = None,
    note: str | None = None,
) -> FeedItem:
    """Write one ledger row and return it as the feed would load it (feed._item), for the
    write's cache patches: a patched entry must equal a fresh load, or the patch is
    refused. `sender` and `recipient` are users rows read in the same transaction."""
    tx_id = s.execute(
        tx_t.insert()
        .values(
            kind=kind.value,
            amount=amount,
            actor_id=actor_id,
            from_user_id=sender.id if sender else None,
            to_user_id=recipient.id if recipient else None,
            item_id=item_id,
            note=note,
            idempotency_key=key,
            created_at=now,
        )
        .returning(tx_t.c.id)
    ).scalar_one()
    return FeedItem(
        id=int(tx_id),
        kind=kind.value,
        amount=amount,
        created_at=now.astimezone(UTC),
        from_id=sender.id if sender else None,
        from_name=_name(sender),
        to_id=recipient.id if recipient else None,
        to_name=_name(recipient),
        item_title=item_title,
        note=note,
    )


def books(db: Database) -> dict[str, int]:
    """Totals for the ledger check: balances + spent must equal rewards."""
    users_t = table(User)
    items_t = table(MarketItem)
    with db.read() as s:
        total_balance = s.execute(select(func.coalesce(func.sum(users_t.c.balance), 0))).scalar()
        by_kind = dict(
            s.execute(
                select(tx_t.c.kind, func.coalesce(func.sum(tx_t.c.amount), 0)).group_by(tx_t.c.kind)
            ).all()
        )
        negative_balances = s.execute(
            select(func.count()).select_from(users_t).where(users_t.c.balance < 0)
        ).scalar()
        negative_stock = s.execute(
            select(func.count()).select_from(items_t).where(items_t.c.stock < 0)
        ).scalar()
    return {
        "total_balance": int(total_balance or 0),
        "total_rewards": int(by_kind.get(TxKind.REWARD.value, 0)),
        "total_spent": int(by_kind.get(TxKind.PURCHASE.value, 0)),
        "total_transferred": int(by_kind.get(TxKind.TRANSFER.value, 0)),
        "negative_balances": int(negative_balances or 0),
        "negative_stock": int(negative_stock or 0),
    }


def books_balanced(report: dict[str, int]) -> bool:
    return (
        report["total_balance"] + report["total_spent"] == report["total_rewards"]
        and report["negative_balances"] == 0
        and report["negative_stock"] == 0
    )
