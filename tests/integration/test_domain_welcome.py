"""The rule against welcome-bonus farming (app/domain/welcome.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from app.domain.errors import InsufficientBalance, WelcomeLocked
from app.domain.market import buy
from app.domain.models import utcnow
from app.domain.rewards import DAILY_REWARD, claim_daily_reward
from app.domain.transfers import transfer
from app.domain.welcome import WELCOME_BONUS, WELCOME_LOCK

if TYPE_CHECKING:
    from tests.support.factory import Factory


def newcomer(factory: Factory, username: str | None = "") -> int:
    """A member who opened the app for the first time just now."""
    return factory.member(username, joined_at=utcnow()).id


def test_a_newcomer_cannot_send_the_welcome_points(factory: Factory) -> None:
    farm = newcomer(factory)
    bob = factory.member("bob")
    with pytest.raises(WelcomeLocked, match="You can send up to 0 now") as caught:
        transfer(factory.db, farm, "bob", 1, None, factory.key())
    assert caught.value.code == "welcome_locked"
    assert isinstance(caught.value, InsufficientBalance)  # screens that show one show both
    assert factory.balance(farm) == WELCOME_BONUS
    assert factory.balance(bob.id) == WELCOME_BONUS
    assert factory.count("transactions", "kind = 'transfer'") == 0
    factory.assert_books()


def test_the_message_names_the_day_the_points_unlock(factory: Factory) -> None:
    joined = utcnow() - timedelta(days=2)
    farm = factory.member(joined_at=joined).id
    factory.member("bob")
    unlock = joined + WELCOME_LOCK
    with pytest.raises(WelcomeLocked, match=f"from {unlock:%b} {unlock.day}\\."):
        transfer(factory.db, farm, "bob", 5, None, factory.key())


def test_welcome_points_spend_in_the_market(factory: Factory) -> None:
    farm = newcomer(factory)
    item = factory.item(price=40, stock=3)
    result = buy(factory.db, farm, item, factory.key())
    assert result.balance == WELCOME_BONUS - 40
    assert factory.stock(item) == 2
    factory.assert_books()


def test_points_received_or_earned_can_be_sent_at_once(factory: Factory) -> None:
    farm = newcomer(factory, "newcomer")
    alice = factory.member("alice", balance=500)
    factory.member("bob")
    transfer(factory.db, alice.id, "newcomer", 30, None, factory.key())
    claim_daily_reward(factory.db, farm)
    free = 30 + DAILY_REWARD

    with pytest.raises(WelcomeLocked, match=f"up to {free} now"):
        transfer(factory.db, farm, "bob", free + 1, None, factory.key())
    result = transfer(factory.db, farm, "bob", free, None, factory.key())

    assert result.balance == WELCOME_BONUS
    factory.assert_books()


def test_market_spending_counts_against_the_welcome_points_first(factory: Factory) -> None:
    farm = newcomer(factory, "newcomer")
    alice = factory.member("alice", balance=500)
    factory.member("bob")
    transfer(factory.db, alice.id, "newcomer", 50, None, factory.key())
    buy(factory.db, farm, factory.item(price=60), factory.key())
    # 150 held, 60 spent: 40 welcome points stay locked, 50 may be sent.
    with pytest.raises(WelcomeLocked, match="up to 50 now"):
        transfer(factory.db, farm, "bob", 51, None, factory.key())
    assert transfer(factory.db, farm, "bob", 50, None, factory.key()).balance == 40


def test_the_lock_ends_after_the_lock_period(factory: Factory) -> None:
    joined = utcnow() - WELCOME_LOCK - timedelta(minutes=1)
    member = factory.member(joined_at=joined).id
    factory.member("bob")
    result = transfer(factory.db, member, "bob", WELCOME_BONUS, None, factory.key())
    assert result.balance == 0
    factory.assert_books()


def test_too_few_points_is_still_reported_as_too_few(factory: Factory) -> None:
    farm = newcomer(factory)
    factory.member("bob")
    with pytest.raises(InsufficientBalance, match="you have 100, this needs 101") as caught:
        transfer(factory.db, farm, "bob", 101, None, factory.key())
    assert not isinstance(caught.value, WelcomeLocked)
