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


class SendState(MemberScreen, rx.State):
    # The draft lives in the tab's sessionStorage too: after a backend restart (a new,
    # empty state) the page sends it back on hydrate and the form is as the member left it.
    # It is only a draft: send() validates everything again.
    to: str = rx.SessionStorage("", name="send_draft_to")
    amount: str = rx.SessionStorage("", name="send_draft_amount")
    note: str = rx.SessionStorage("", name="send_draft_note")
    sending: bool = False
    send_key: str = rx.field(default_factory=lambda: action_key("send"))

    @rx.var
    def has_input(self) -> bool:
        return bool(self.to or self.amount or self.note)

    @rx.event
    def set_to(self, value: Any) -> None:
        self.to = text_arg(value, TO_CHARS)

    @rx.event
    def set_amount(self, value: Any) -> None:
        self.amount = text_arg(value, AMOUNT_CHARS)

    @rx.event
    def set_note(self, value: Any) -> None:
        self.note = text_arg(value, MAX_NOTE_CHARS)

    @rx.event
    async def send(self, key: Any) -> AsyncIterator[Any]:
        async def transfer(uid: int) -> TransferResult:
            # The draft may come back from sessionStorage on a hydrate, past the setters.
            to, amount = text_arg(self.to, TO_CHARS), text_arg(self.amount, AMOUNT_CHARS)
            note = text_arg(self.note, MAX_NOTE_CHARS) or None
            return await call(transfers.transfer, uid, to, amount, note, key)

        async def sent(result: TransferResult) -> None:
            self.notice = f"Sent {points(result.amount)} points to {result.recipient_name}."
            self.to = self.amount = self.note = ""
            self.send_key = action_key("send")

        async for step in self._act("sending", transfer, sent):
            yield step
