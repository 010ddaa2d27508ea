"""Sending points from one member to another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.cache import keys
from app.cache.writes import Patch
from app.domain import patches, welcome
from app.domain.db import Database
from app.domain.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    NotFound,
    SelfTransfer,
    UnknownRecipient,
    WelcomeLocked,
)
from app.domain.ledger import KeyedWrite, book, keyed_write
from app.domain.models import TxKind, User, table, utcnow
from app.domain.validation import (
    clean_note,
    normalize_username,
    parse_amount,
    require_idempotency_key,
    require_user_id,
)
from app.domain.views import TransferResult, display_name

users_t = table(User)


def transfer(
    db: Database,
    from_user_id: Any,
    to_username: Any,
    amount: Any,
    note: Any,
    idempotency_key: Any,
    *,
    now: datetime | None = None,
) -> TransferResult:
    """Move `amount` points in one transaction; a retried key returns the first result."""
    sender_id = require_user_id(from_user_id)
    username_key = normalize_username(to_username)
    amount = parse_amount(amount)
    note = clean_note(note)
    key = require_idempotency_key(idempotency_key)
    at = now or utcnow()

    def body(write: KeyedWrite) -> tuple[TransferResult, list[Patch]]:
        s = write.session
        recipient = s.execute(
            select(users_t.c.id).where(users_t.c.username_key == username_key).limit(1)
        ).first()
        if recipient is None:
            raise UnknownRecipient(f"No member with the username @{username_key}.")
        recipient_id = int(recipient.id)
        if recipient_id == sender_id:
            raise SelfTransfer("You cannot send points to yourself.")
        # Lock both rows in id order so A->B and B->A at once cannot deadlock.
        locked = s.execute(
            select(users_t)
            .where(users_t.c.id.in_([sender_id, recipient_id]))
            .order_by(users_t.c.id)
            .with_for_update()
        ).all()
        by_id = {row.id: row for row in locked}
        write.recheck()
        if sender_id not in by_id:
            raise NotFound("Your account is not registered yet.")
        held = welcome.locked_points(s, by_id[sender_id], at)
        new_balance = s.execute(
            update(users_t)
            .where(users_t.c.id == sender_id, users_t.c.balance >= amount + held)
            .values(balance=users_t.c.balance - amount)
            .returning(users_t.c.balance)
        ).scalar_one_or_none()
        if new_balance is None and held and by_id[sender_id].balance >= amount:
            free = max(0, by_id[sender_id].balance - held)
            until = welcome.unlocks_at(by_id[sender_id])
            raise WelcomeLocked(
                f"Welcome points can be spent in the market, but sent only from "
                f"{until:%b} {until.day}. You can send up to {free:,} now."
            )
        if new_balance is None:
            raise InsufficientBalance(
                f"Not enough points: you have {by_id[sender_id].balance:,}, this needs {amount:,}."
            )
        recipient_balance = s.execute(
            update(users_t)
            .where(users_t.c.id == recipient_id)
            .values(balance=users_t.c.balance + amount)
            .returning(users_t.c.balance)
        ).scalar_one()
        sender, rec = by_id[sender_id], by_id[recipient_id]
        sent = book(
            s,
            kind=TxKind.TRANSFER,
            amount=amount,
            actor_id=sender_id,
            key=key,
            now=at,
            sender=sender,
            recipient=rec,
            note=note,
        )
        # After the commit (or a failed one): both members' balances and histories, the
        # feed, the leaderboard get new generations; announced before the commit, so a
        # concurrent write's patch cannot miss it (Cache.register).
        write.cache.register(
            keys.profile(sender_id),
            keys.history(sender_id),
            keys.profile(recipient_id),
            keys.history(recipient_id),
            keys.FEED,
            keys.LEADERBOARD,
        )
        planned = patches.after_ledger_write(
            {sender_id: (sender, int(new_balance)), recipient_id: (rec, int(recipient_balance))},
            sent,
        )
        result = TransferResult(
            transaction_id=sent.id,
            amount=amount,
            recipient_id=recipient_id,
            recipient_name=display_name(rec.first_name, rec.last_name, rec.username),
            balance=int(new_balance),
        )
        return result, planned

    return keyed_write(
        db, sender_id, key, body, lambda s, previous: _replay(s, previous, username_key, amount)
    )


def _replay(s: Session, previous: Any, username_key: str, amount: int) -> TransferResult:
    conflict = IdempotencyConflict("This request key was already used for a different action.")
    # Check the kind first: a reward or purchase under this key has no sender/recipient.
    if previous.kind != TxKind.TRANSFER.value or previous.amount != amount:
        raise conflict
    recipient = s.execute(select(users_t).where(users_t.c.id == previous.to_user_id)).first()
    if recipient is None or recipient.username_key not in (username_key, None):
        raise conflict
    sender_balance = s.execute(
        select(users_t.c.balance).where(users_t.c.id == previous.from_user_id)
    ).scalar_one()
    return TransferResult(
        transaction_id=int(previous.id),
        amount=int(previous.amount),
        recipient_id=int(recipient.id),
        recipient_name=display_name(recipient.first_name, recipient.last_name, recipient.username),
        balance=int(sender_balance),
        replayed=True,
    )
