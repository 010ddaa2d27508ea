"""Market: the item grid, an item page, and buying (charged once per press)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from app.cache import keys
from app.domain import market, queries
from app.domain.errors import DomainError
from app.domain.views import MarketItemView, PurchaseResult
from state import live
from state.formatting import points
from state.member import MemberScreen
from state.services import action_key, call


@dataclass
class ItemCard:
    id: int
    title: str
    description: str
    price: str
    stock: int
    image: str
    href: str


def _card(item: MarketItemView) -> ItemCard:
    return ItemCard(
        item.id,
        item.title,
        item.description,
        points(item.price),
        item.stock,
        item.image,
        f"/market/{item.id}",
    )


class MarketState(MemberScreen, rx.State):
    items: list[ItemCard] = []
    item: ItemCard | None = None
    loaded: bool = False
    buying: bool = False
    # One key per intended purchase: the button sends it with the event, so a press that
    # is re-sent after a reconnect is the same purchase, charged once.
    # A factory, not a value: a class-level default would be one key for every tab of
    # this process, and a second session's purchase would replay the first one.
    buy_key: str = rx.field(default_factory=lambda: action_key("buy"))

    @rx.event
    async def load(self) -> None:
        try:
            items = await call(queries.market_items)
        except DomainError as exc:
            self.error = exc.message
            return
        self.items = [_card(i) for i in items]
        self.loaded = True

    @rx.event
    async def open_item(self) -> None:
        # The route's argument, a var Reflex adds to the root state for /market/[item_id]
        # (router.page.params is deprecated, and its warning costs the first request
        # after a start some 300 ms of stack inspection). No default: a renamed route
        # must fail here, not show every item as missing.
        raw = self.item_id
        try:
            card = _card(await call(queries.market_item, raw))
        except DomainError as exc:
            self.item = None
            self.error, self.notice = exc.message, ""
            return
        if self.item is None or self.item.id != card.id:
            # Another item: the last one's messages go. The same item again (a reload, a
            # resume) keeps them: a purchase's notice stays until the member moves on.
            self.error = self.notice = ""
        self.item = card
        self.loaded = True

    @rx.event
    async def buy(self, item_id: Any, key: Any) -> AsyncIterator[Any]:
        async def reload_item() -> None:
            # The stock changed, or the item was withdrawn meanwhile (then it stays).
            with contextlib.suppress(DomainError):
                self.item = _card(await call(queries.market_item, item_id))

        async def bought(result: PurchaseResult) -> None:
            self.notice = f"You bought {result.title} for {points(result.price)} points."
            self.buy_key = action_key("buy")
            await reload_item()

        async def refused(_: DomainError) -> None:
            await reload_item()

        async def purchase(uid: int) -> PurchaseResult:
            return await call(market.buy, uid, item_id, key)

        async for step in self._act("buying", purchase, bought, refused):
            yield step


async def _grid(_: str) -> live.Values:
    items = await call(queries.market_items)
    return {MarketState: {"items": [_card(i) for i in items]}}


async def _item(item_id: str) -> live.Values:
    return {MarketState: {"item": _card(await call(queries.market_item, item_id))}}


async def _item_id(state: rx.State) -> str:
    item = (await state.get_state(MarketState)).item
    return str(item.id) if item is not None else ""


# The grid (prices, stock) and one item's page: the same for everyone who has them open.
MARKET_GRID = live.Broadcast("market", (keys.MARKET,), _grid)
MARKET_ITEM = live.Broadcast("item", (keys.MARKET,), _item, arg=_item_id)
