"""Profile: my purchases and history, and sending points to a member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from app.domain import queries, transfers
from app.domain.errors import DomainError
from app.domain.validation import MAX_NOTE_CHARS
from app.domain.views import TransferResult
from state.drafts import clear_draft
from state.feed import FeedRow, to_row
from state.formatting import ago, points
from state.member import MemberScreen
from state.services import action_key, call, text_arg


@dataclass
class PurchaseRow:
    id: int
    title: str
    image: str
    price: str
    when: str


class ProfileState(MemberScreen, rx.State):
    purchases: list[PurchaseRow] = []
    history: list[FeedRow] = []
    loaded: bool = False

    @rx.event
    async def load(self) -> None:
        uid = await self._member()
        if uid is None:
            return
        try:
            bought = await call(queries.purchases, uid, 20)
            page = await call(queries.history, uid, None, 20)
        except DomainError as exc:
            self.error = exc.message
            return
        self.purchases = [
            PurchaseRow(p.id, p.title, p.image, points(p.price), ago(p.created_at)) for p in bought
        ]
        self.history = [to_row(i) for i in page.items]
        self.loaded = True


# The send form's fields (the username is at most 32 characters, with '@' and spaces).
TO_CHARS = 40
AMOUNT_CHARS = 12
SEND_FORM = "send"  # the draft's name (components/form_draft.py)


class SendState(MemberScreen, rx.State):
    # The form's inputs are not state: the page keeps them (components/form_draft.py) and
    # send() gets them as arguments, checked like anything else from the browser.
    sending: bool = False
    send_key: str = rx.field(default_factory=lambda: action_key("send"))

    @rx.event
    async def send(
        self, key: Any, to: Any = "", amount: Any = "", note: Any = ""
    ) -> AsyncIterator[Any]:
        to, amount = text_arg(to, TO_CHARS), text_arg(amount, AMOUNT_CHARS)
        note = text_arg(note, MAX_NOTE_CHARS)

        async def transfer(uid: int) -> TransferResult:
            return await call(transfers.transfer, uid, to, amount, note or None, key)

        async def sent(result: TransferResult) -> list[Any]:
            self.notice = f"Sent {points(result.amount)} points to {result.recipient_name}."
            self.send_key = action_key("send")
            return [clear_draft(SEND_FORM)]

        async for step in self._act("sending", transfer, sent):
            yield step
