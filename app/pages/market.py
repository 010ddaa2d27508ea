"""Market screens: the grid of items and an item's page with Buy."""

from __future__ import annotations

import reflex as rx

from app.pages.registry import Page
from components.feed_list import feed_skeleton
from components.layout import error_message, main_action, notice
from components.nav import Tab
from components.session_gate import member_header
from state.market import MARKET_GRID, MARKET_ITEM, ItemCard, MarketState


def item_card(item: ItemCard) -> rx.Component:
    return rx.link(
        rx.box(
            rx.image(src=item.image, alt=item.title, loading="lazy", class_name="item-image"),
            rx.text(item.title, class_name="item-title"),
            rx.hstack(
                rx.text(item.price, " pts", class_name="item-price"),
                rx.cond(
                    item.stock > 0,
                    rx.text(item.stock, " left", class_name="item-stock"),
                    rx.text("Sold out", class_name="item-stock sold-out"),
                ),
                justify="between",
                width="100%",
            ),
            class_name="item-card",
        ),
        href=item.href,
        underline="none",
        class_name="item-link",
    )


def market_grid() -> rx.Component:
    return rx.fragment(
        error_message(MarketState.error),
        rx.cond(
            MarketState.loaded,
            rx.box(rx.foreach(MarketState.items, item_card), class_name="grid", id="items"),
            feed_skeleton(4),
        ),
    )


def item_page() -> rx.Component:
    item = MarketState.item.to(ItemCard)
    return rx.fragment(
        member_header(),
        error_message(MarketState.error),
        notice(MarketState.notice),
        rx.cond(
            MarketState.item,
            rx.vstack(
                rx.image(src=item.image, alt=item.title, class_name="item-hero"),
                rx.heading(item.title, size="5", id="item-title"),
                rx.text(item.description, class_name="item-description"),
                rx.hstack(
                    rx.text(item.price, " points", class_name="item-price", id="item-price"),
                    rx.text(item.stock, " in stock", class_name="item-stock", id="item-stock"),
                    justify="between",
                    width="100%",
                ),
                main_action(
                    rx.cond(item.stock > 0, "Buy", "Sold out"),
                    MarketState.buy(item.id, MarketState.buy_key),
                    loading=MarketState.buying,
                    disabled=item.stock <= 0,
                    element_id="buy",
                ),
                width="100%",
            ),
        ),
    )


GRID = Page(
    "/market",
    "Market",
    market_grid,
    tab=Tab("market", "shopping-bag", "Market"),
    on_ready=(MarketState.load,),
    live=(MARKET_GRID,),
)
# The item comes from the route: on_load carries this page's parameters (an on_mount
# after client-side navigation may still carry the previous page's).
ITEM = Page(
    "/market/[item_id]",
    "Item",
    item_page,
    parent=GRID,
    on_load=(MarketState.open_item,),
    live=(MARKET_ITEM,),
)
