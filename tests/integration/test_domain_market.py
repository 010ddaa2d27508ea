"""The market: list, item page, buy() rules and a member's purchases, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from app.domain.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    OutOfStock,
)
from app.domain.market import buy, get_item, list_items, user_purchases
from app.domain.transfers import transfer
from app.domain.users import WELCOME_BONUS

if TYPE_CHECKING:
    from tests.support.factory import Factory


def purchases_count(factory: Factory) -> int:
    return factory.count("purchases")


def test_buy_takes_stock_and_balance_together(factory: Factory) -> None:
    alice = factory.member(balance=200)
    item = factory.item(price=30, stock=5, title="Mug")

    result = buy(factory.db, alice.id, item, factory.key())

    assert result.replayed is False
    assert result.item_id == item
    assert result.title == "Mug"
    assert result.price == 30
    assert result.balance == 170
    assert factory.balance(alice.id) == 170
    assert factory.stock(item) == 4
    assert get_item(factory.db, item).stock == 4
    assert purchases_count(factory) == 1
    assert (
        factory.count(
            "transactions",
            "id = :id AND kind = 'purchase' AND amount = 30 AND from_user_id = :u "
            "AND to_user_id IS NULL AND item_id = :item",
            id=result.transaction_id,
            u=alice.id,
            item=item,
        )
        == 1
    )
    assert (
        factory.count(
            "purchases",
            "id = :id AND transaction_id = :tx AND user_id = :u AND price = 30",
            id=result.purchase_id,
            tx=result.transaction_id,
            u=alice.id,
        )
        == 1
    )
    report = factory.assert_books()
    assert report["total_spent"] == 30


def test_buy_until_sold_out(factory: Factory) -> None:
    alice = factory.member(balance=1000)
    item = factory.item(price=10, stock=3)
    for _ in range(3):
        buy(factory.db, alice.id, item, factory.key())
    with pytest.raises(OutOfStock, match="out of stock"):
        buy(factory.db, alice.id, item, factory.key())
    assert factory.stock(item) == 0
    assert factory.balance(alice.id) == 970
    assert purchases_count(factory) == 3
    factory.assert_books()


def test_last_item_goes_to_one_buyer(factory: Factory) -> None:
    alice, bob = factory.members(2)
    item = factory.item(price=10, stock=1)
    buy(factory.db, alice.id, item, factory.key())
    with pytest.raises(OutOfStock):
        buy(factory.db, bob.id, item, factory.key())
    assert factory.balance(bob.id) == WELCOME_BONUS
    assert factory.stock(item) == 0


def test_insufficient_balance_leaves_stock_unchanged(factory: Factory) -> None:
    alice = factory.member(balance=99)
    item = factory.item(price=100, stock=5)
    with pytest.raises(InsufficientBalance, match="you have 99, this costs 100"):
        buy(factory.db, alice.id, item, factory.key())
    assert factory.stock(item) == 5
    assert factory.balance(alice.id) == 99
    assert purchases_count(factory) == 0
    factory.assert_books()


def test_exact_balance_is_enough(factory: Factory) -> None:
    alice = factory.member(balance=100)
    item = factory.item(price=100, stock=1)
    assert buy(factory.db, alice.id, item, factory.key()).balance == 0


def test_inactive_item_is_not_found(factory: Factory) -> None:
    alice = factory.member()
    item = factory.item(active=False)
    with pytest.raises(NotFound):
        buy(factory.db, alice.id, item, factory.key())
    with pytest.raises(NotFound):
        get_item(factory.db, item)
    assert factory.stock(item) == 5
    assert factory.balance(alice.id) == WELCOME_BONUS


@pytest.mark.parametrize("item_id", [999_999, 2**31 - 1])
def test_unknown_item_is_not_found(factory: Factory, item_id: int) -> None:
    alice = factory.member()
    with pytest.raises(NotFound, match="not in the market"):
        buy(factory.db, alice.id, item_id, factory.key())
    with pytest.raises(NotFound):
        get_item(factory.db, item_id)
    assert factory.balance(alice.id) == WELCOME_BONUS


def test_unregistered_buyer_takes_nothing_from_stock(factory: Factory) -> None:
    item = factory.item(stock=2)
    with pytest.raises(NotFound, match="not registered"):
        buy(factory.db, 424242, item, factory.key())
    assert factory.stock(item) == 2
    assert purchases_count(factory) == 0


@pytest.mark.parametrize("item_id", [0, -1, "one", None, 1.5, 2**31, 2**62, 2**63])
def test_bad_item_id(factory: Factory, item_id: object) -> None:
    alice = factory.member()
    with pytest.raises(InvalidInput):
        buy(factory.db, alice.id, item_id, factory.key())
    with pytest.raises(InvalidInput):
        get_item(factory.db, item_id)


def test_retried_key_charges_once(factory: Factory) -> None:
    alice = factory.member(balance=500)
    item = factory.item(price=40, stock=5)
    key = factory.key()
    first = buy(factory.db, alice.id, item, key)
    retries = [buy(factory.db, alice.id, item, key) for _ in range(3)]
    for retry in retries:
        assert retry.replayed is True
        assert retry.purchase_id == first.purchase_id
        assert retry.transaction_id == first.transaction_id
        assert retry.price == 40
        assert retry.balance == 460
    assert factory.stock(item) == 4
    assert factory.balance(alice.id) == 460
    assert purchases_count(factory) == 1
    factory.assert_books()


def test_retry_of_the_last_item_is_not_out_of_stock(factory: Factory) -> None:
    alice, bob = factory.members(2)
    item = factory.item(price=10, stock=1)
    key = factory.key()
    first = buy(factory.db, alice.id, item, key)
    with pytest.raises(OutOfStock):
        buy(factory.db, bob.id, item, factory.key())
    retry = buy(factory.db, alice.id, item, key)
    assert retry.replayed is True
    assert retry.purchase_id == first.purchase_id


def test_retry_after_item_was_withdrawn_still_returns_first_result(factory: Factory) -> None:
    alice = factory.member()
    item = factory.item(price=10, stock=3)
    key = factory.key()
    first = buy(factory.db, alice.id, item, key)
    with factory.db.write() as s:
        s.execute(text("UPDATE market_items SET active = false WHERE id = :id"), {"id": item})
    retry = buy(factory.db, alice.id, item, key)
    assert retry.replayed is True
    assert retry.purchase_id == first.purchase_id


def test_key_reused_for_other_item_conflicts(factory: Factory) -> None:
    alice = factory.member(balance=500)
    mug = factory.item(price=10)
    hat = factory.item(price=10)
    key = factory.key()
    buy(factory.db, alice.id, mug, key)
    with pytest.raises(IdempotencyConflict):
        buy(factory.db, alice.id, hat, key)
    assert factory.stock(hat) == 5
    assert factory.balance(alice.id) == 490


def test_key_of_a_transfer_conflicts_with_a_purchase(factory: Factory) -> None:
    alice = factory.member(balance=500)
    factory.member("bob")
    item = factory.item(price=10)
    key = factory.key()
    transfer(factory.db, alice.id, "bob", 10, None, key)
    with pytest.raises(IdempotencyConflict):
        buy(factory.db, alice.id, item, key)
    assert factory.stock(item) == 5


def test_list_items_only_active_cheapest_first(factory: Factory) -> None:
    cheap = factory.item(price=5, title="Sticker")
    dear = factory.item(price=500, title="Hoodie")
    factory.item(price=50, active=False, title="Retired")
    same_price = factory.item(price=5, title="Badge")
    sold_out = factory.item(price=20, stock=0, title="Socks")

    items = list_items(factory.db)

    assert [i.id for i in items] == [cheap, same_price, sold_out, dear]
    assert "Retired" not in {i.title for i in items}
    by_id = {i.id: i for i in items}
    assert by_id[sold_out].stock == 0
    assert by_id[dear].price == 500
    assert by_id[dear].image == "/demo/test.svg"


def test_list_items_empty_market(factory: Factory) -> None:
    assert list_items(factory.db) == []


def test_get_item_accepts_id_as_text(factory: Factory) -> None:
    item = factory.item(title="Notebook")
    assert get_item(factory.db, str(item)).title == "Notebook"


def test_user_purchases_newest_first_and_only_mine(factory: Factory) -> None:
    alice, bob = factory.members(2, balance=1000)
    mug = factory.item(price=10, title="Mug")
    hat = factory.item(price=20, title="Hat")
    t0 = datetime(2025, 3, 12, 12, tzinfo=UTC)
    buy(factory.db, alice.id, mug, factory.key(), now=t0)
    buy(factory.db, bob.id, mug, factory.key(), now=t0 + timedelta(minutes=1))
    buy(factory.db, alice.id, hat, factory.key(), now=t0 + timedelta(minutes=2))
    buy(factory.db, alice.id, mug, factory.key(), now=t0 + timedelta(minutes=3))

    mine = user_purchases(factory.db, alice.id)
    assert [(p.title, p.price) for p in mine] == [("Mug", 10), ("Hat", 20), ("Mug", 10)]
    assert [p.created_at for p in mine] == sorted((p.created_at for p in mine), reverse=True)
    assert mine[0].created_at == t0 + timedelta(minutes=3)
    assert len(user_purchases(factory.db, bob.id)) == 1
    assert len(user_purchases(factory.db, alice.id, limit=2)) == 2
    assert user_purchases(factory.db, 5555) == []
