"""transfer(): every write rule, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from app.domain.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    SelfTransfer,
    UnknownRecipient,
)
from app.domain.market import buy
from app.domain.rewards import claim_daily_reward
from app.domain.transfers import transfer
from app.domain.users import WELCOME_BONUS, upsert_user
from app.domain.validation import MAX_TRANSFER

if TYPE_CHECKING:  # fixtures only at run time: another conftest.py may own the name
    from tests.support.factory import Factory


def transfers_count(factory: Factory) -> int:
    return factory.count("transactions", "kind = 'transfer'")


def test_transfer_moves_points_and_keeps_books(factory: Factory) -> None:
    alice = factory.member("alice", balance=500, first_name="Alice", last_name="Martin")
    bob = factory.member("bob", first_name="Bob", last_name="Kowalski")

    result = transfer(factory.db, alice.id, "@bob", 120, "  for the pizza \x00 ", factory.key())

    assert result.amount == 120
    assert result.recipient_id == bob.id
    assert result.recipient_name == "Bob Kowalski"
    assert result.balance == 380
    assert result.replayed is False
    assert factory.balance(alice.id) == 380
    assert factory.balance(bob.id) == WELCOME_BONUS + 120
    assert transfers_count(factory) == 1
    assert (
        factory.count(
            "transactions",
            "id = :id AND from_user_id = :a AND to_user_id = :b AND actor_id = :a "
            "AND amount = 120 AND note = 'for the pizza'",
            id=result.transaction_id,
            a=alice.id,
            b=bob.id,
        )
        == 1
    )
    report = factory.assert_books()
    assert report["total_transferred"] == 120


def test_whole_balance_can_be_sent(factory: Factory) -> None:
    alice = factory.member(balance=75)
    bob = factory.member("bob")
    result = transfer(factory.db, alice.id, "bob", 75, None, factory.key())
    assert result.balance == 0
    assert factory.balance(alice.id) == 0
    assert factory.balance(bob.id) == 175
    factory.assert_books()


@pytest.mark.parametrize("amount", [101, 1_000_000])
def test_insufficient_balance_changes_nothing(factory: Factory, amount: int) -> None:
    alice = factory.member(balance=100)
    bob = factory.member("bob")
    with pytest.raises(InsufficientBalance, match="you have 100"):
        transfer(factory.db, alice.id, "@bob", amount, None, factory.key())
    assert factory.balance(alice.id) == 100
    assert factory.balance(bob.id) == WELCOME_BONUS
    assert transfers_count(factory) == 0
    factory.assert_books()


def test_unknown_recipient(factory: Factory) -> None:
    alice = factory.member()
    with pytest.raises(UnknownRecipient, match="@nobody_here") as info:
        transfer(factory.db, alice.id, "@Nobody_Here", 10, None, factory.key())
    assert isinstance(info.value, NotFound)
    assert factory.balance(alice.id) == WELCOME_BONUS
    assert transfers_count(factory) == 0


@pytest.mark.parametrize("spelling", ["alice", "@alice", "@ALICE", " Alice "])
def test_self_transfer(factory: Factory, spelling: str) -> None:
    alice = factory.member("Alice")
    with pytest.raises(SelfTransfer):
        transfer(factory.db, alice.id, spelling, 10, None, factory.key())
    assert factory.balance(alice.id) == WELCOME_BONUS
    assert transfers_count(factory) == 0


@pytest.mark.parametrize(
    "amount",
    [0, -5, "-5", 1.5, "abc", None, True, float("nan"), MAX_TRANSFER + 1, 10**30, "1,5"],
    ids=repr,
)
def test_non_positive_or_absurd_amount(factory: Factory, amount: Any) -> None:
    alice = factory.member(balance=MAX_TRANSFER * 2)
    factory.member("bob")
    with pytest.raises(InvalidInput):
        transfer(factory.db, alice.id, "bob", amount, None, factory.key())
    assert factory.balance(alice.id) == MAX_TRANSFER * 2
    assert transfers_count(factory) == 0


def test_amount_as_text_with_thousands_separator(factory: Factory) -> None:
    alice = factory.member(balance=5000)
    factory.member("bob")
    result = transfer(factory.db, alice.id, "bob", "1,000", None, factory.key())
    assert result.amount == 1000
    assert factory.balance(alice.id) == 4000


def test_unregistered_sender(factory: Factory) -> None:
    factory.member("bob")
    with pytest.raises(NotFound, match="not registered"):
        transfer(factory.db, 123456789, "bob", 10, None, factory.key())
    assert transfers_count(factory) == 0
    factory.assert_books()


def test_note_too_long_is_rejected_before_anything_is_charged(factory: Factory) -> None:
    alice = factory.member()
    factory.member("bob")
    with pytest.raises(InvalidInput, match="Note"):
        transfer(factory.db, alice.id, "bob", 10, "x" * 141, factory.key())
    assert factory.balance(alice.id) == WELCOME_BONUS


def test_retried_key_returns_first_result_and_charges_once(factory: Factory) -> None:
    alice = factory.member(balance=300)
    bob = factory.member("bob")
    key = factory.key()

    first = transfer(factory.db, alice.id, "@bob", 100, "hi", key)
    again = transfer(factory.db, alice.id, "@bob", 100, "hi", key)
    # A retry may differ in spelling of the same recipient and in the note.
    third = transfer(factory.db, alice.id, "BOB", "100", None, key)

    assert first.replayed is False
    for retry in (again, third):
        assert retry.replayed is True
        assert retry.transaction_id == first.transaction_id
        assert retry.amount == 100
        assert retry.recipient_id == bob.id
        assert retry.balance == 200
    assert factory.balance(alice.id) == 200
    assert factory.balance(bob.id) == WELCOME_BONUS + 100
    assert transfers_count(factory) == 1
    factory.assert_books()


def test_replay_reports_current_balance(factory: Factory) -> None:
    alice = factory.member(balance=300)
    factory.member("bob")
    key = factory.key()
    transfer(factory.db, alice.id, "bob", 100, None, key)
    transfer(factory.db, alice.id, "bob", 50, None, factory.key())
    retry = transfer(factory.db, alice.id, "bob", 100, None, key)
    assert retry.replayed is True
    assert retry.balance == 150 == factory.balance(alice.id)


def test_key_reused_for_other_amount_conflicts(factory: Factory) -> None:
    alice = factory.member(balance=300)
    factory.member("bob")
    key = factory.key()
    transfer(factory.db, alice.id, "bob", 100, None, key)
    with pytest.raises(IdempotencyConflict):
        transfer(factory.db, alice.id, "bob", 101, None, key)
    assert factory.balance(alice.id) == 200
    assert transfers_count(factory) == 1


def test_key_reused_for_other_recipient_conflicts(factory: Factory) -> None:
    alice = factory.member(balance=300)
    factory.member("bob")
    carol = factory.member("carol")
    key = factory.key()
    transfer(factory.db, alice.id, "bob", 100, None, key)
    with pytest.raises(IdempotencyConflict):
        transfer(factory.db, alice.id, "carol", 100, None, key)
    assert factory.balance(carol.id) == WELCOME_BONUS
    assert transfers_count(factory) == 1


def test_key_of_a_purchase_conflicts_with_a_transfer(factory: Factory) -> None:
    alice = factory.member(balance=300)
    factory.member("bob")
    item = factory.item(price=10, stock=3)
    key = factory.key()
    buy(factory.db, alice.id, item, key)
    with pytest.raises(IdempotencyConflict):
        transfer(factory.db, alice.id, "bob", 10, None, key)
    assert transfers_count(factory) == 0
    assert factory.balance(alice.id) == 290


@pytest.mark.parametrize(
    "reserved",
    ["welcome-bonus", "daily-reward:2025-03-12", "Daily-Reward:2025-03-13", "seed-12345"],
)
def test_server_keys_are_reserved_for_the_server(factory: Factory, reserved: str) -> None:
    """A client key equal to a reward's key would block that member's own reward."""
    alice = factory.member(balance=300)
    factory.member("bob")
    with pytest.raises(InvalidInput, match="reserved"):
        transfer(factory.db, alice.id, "bob", 10, None, reserved)
    assert transfers_count(factory) == 0
    claim_daily_reward(factory.db, alice.id, now=datetime(2025, 3, 13, 8, tzinfo=UTC))
    factory.assert_books()


def test_keys_belong_to_their_sender(factory: Factory) -> None:
    alice = factory.member("alice", balance=300)
    bob = factory.member("bob", balance=300)
    factory.member("carol")
    key = factory.key()
    a = transfer(factory.db, alice.id, "carol", 10, None, key)
    b = transfer(factory.db, bob.id, "carol", 10, None, key)
    assert not a.replayed and not b.replayed
    assert a.transaction_id != b.transaction_id
    assert transfers_count(factory) == 2


def test_failed_attempt_does_not_burn_the_key(factory: Factory) -> None:
    alice = factory.member(balance=50)
    factory.member("bob")
    key = factory.key()
    with pytest.raises(InsufficientBalance):
        transfer(factory.db, alice.id, "bob", 80, None, key)
    factory.adjust(alice.id, 50)
    result = transfer(factory.db, alice.id, "bob", 80, None, key)
    assert result.replayed is False
    assert factory.balance(alice.id) == 20
    factory.assert_books()


def test_retry_after_username_moved_does_not_pay_the_new_holder(factory: Factory) -> None:
    alice = factory.member(balance=300)
    bob = factory.member("bob")
    key = factory.key()
    first = transfer(factory.db, alice.id, "bob", 100, None, key)
    # Bob gives up the name and someone else takes it before the retry arrives.
    newcomer = factory.member("bob")
    assert newcomer.id != bob.id
    retry = transfer(factory.db, alice.id, "bob", 100, None, key)
    assert retry.replayed is True
    assert retry.transaction_id == first.transaction_id
    assert retry.recipient_id == bob.id
    assert factory.balance(newcomer.id) == WELCOME_BONUS
    assert factory.balance(alice.id) == 200


def test_recipient_lookup_is_case_insensitive(factory: Factory) -> None:
    alice = factory.member(balance=300)
    camel = upsert_user(factory.db, {"id": 99_000_001, "username": "CamelCase_Name"})
    result = transfer(factory.db, alice.id, "@camelcase_name", 10, None, factory.key())
    assert result.recipient_id == camel.id
    result = transfer(factory.db, alice.id, "CAMELCASE_NAME", 10, None, factory.key())
    assert result.recipient_id == camel.id
    assert factory.balance(camel.id) == WELCOME_BONUS + 20
