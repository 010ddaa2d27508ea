"""The daily reward and members (upsert, profile, usernames), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from app.domain.errors import AlreadyClaimed, InvalidInput, NotFound
from app.domain.rewards import DAILY_REWARD, claim_daily_reward, reward_status
from app.domain.transfers import transfer
from app.domain.users import WELCOME_BONUS, find_by_username, get_profile, upsert_user

if TYPE_CHECKING:
    from tests.support.factory import Factory

DAY1 = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)


def rewards_count(factory: Factory, user_id: int) -> int:
    return factory.count(
        "transactions", "kind = 'reward' AND to_user_id = :u AND note = 'Daily reward'", u=user_id
    )


# --- daily reward ----------------------------------------------------------------------


def test_claim_once_per_day(factory: Factory) -> None:
    alice = factory.member()
    assert reward_status(factory.db, alice.id, now=DAY1).claimed_today is False

    result = claim_daily_reward(factory.db, alice.id, now=DAY1)

    assert result.amount == DAILY_REWARD
    assert result.balance == WELCOME_BONUS + DAILY_REWARD
    assert result.next_claim_at == datetime(2025, 3, 13, tzinfo=UTC)
    assert factory.balance(alice.id) == WELCOME_BONUS + DAILY_REWARD
    status = reward_status(factory.db, alice.id, now=DAY1 + timedelta(hours=1))
    assert status.claimed_today is True
    assert status.amount == DAILY_REWARD
    assert status.next_claim_at == datetime(2025, 3, 13, tzinfo=UTC)

    with pytest.raises(AlreadyClaimed, match=r"Next one in 14 h 29 min"):
        claim_daily_reward(factory.db, alice.id, now=DAY1 + timedelta(minutes=1))
    with pytest.raises(AlreadyClaimed):
        claim_daily_reward(factory.db, alice.id, now=datetime(2025, 3, 12, 23, 59, tzinfo=UTC))
    assert factory.balance(alice.id) == WELCOME_BONUS + DAILY_REWARD
    assert rewards_count(factory, alice.id) == 1
    factory.assert_books()


def test_next_day_is_allowed(factory: Factory) -> None:
    alice = factory.member()
    late = datetime(2025, 3, 12, 23, 59, 59, 999999, tzinfo=UTC)
    claim_daily_reward(factory.db, alice.id, now=late)
    midnight = datetime(2025, 3, 13, tzinfo=UTC)
    assert reward_status(factory.db, alice.id, now=midnight).claimed_today is False
    result = claim_daily_reward(factory.db, alice.id, now=midnight)
    assert result.balance == WELCOME_BONUS + 2 * DAILY_REWARD
    for day in range(2, 6):
        claim_daily_reward(factory.db, alice.id, now=DAY1 + timedelta(days=day))
    assert rewards_count(factory, alice.id) == 6
    report = factory.assert_books()
    assert report["total_rewards"] == WELCOME_BONUS + 6 * DAILY_REWARD


def test_day_is_the_utc_day(factory: Factory) -> None:
    alice = factory.member()
    plus5 = timezone(timedelta(hours=5))
    # 01:00 at UTC+5 on the 13th is 20:00 UTC on the 12th: the same day as DAY1.
    claim_daily_reward(factory.db, alice.id, now=DAY1)
    with pytest.raises(AlreadyClaimed):
        claim_daily_reward(factory.db, alice.id, now=datetime(2025, 3, 13, 1, tzinfo=plus5))


def test_claims_of_different_members_are_independent(factory: Factory) -> None:
    alice, bob = factory.members(2)
    claim_daily_reward(factory.db, alice.id, now=DAY1)
    claim_daily_reward(factory.db, bob.id, now=DAY1)
    assert factory.balance(bob.id) == WELCOME_BONUS + DAILY_REWARD


def test_unregistered_member_cannot_claim(factory: Factory) -> None:
    with pytest.raises(NotFound, match="not registered"):
        claim_daily_reward(factory.db, 31337, now=DAY1)
    assert factory.count("transactions") == 0
    assert reward_status(factory.db, 31337, now=DAY1).claimed_today is False


# --- members ---------------------------------------------------------------------------


def test_new_member_gets_the_welcome_bonus_once(factory: Factory) -> None:
    data = {"id": 8_123_456_789, "username": "newbie", "first_name": "New", "last_name": "Bee"}
    first = upsert_user(factory.db, data)
    assert first.balance == WELCOME_BONUS
    assert first.name == "New Bee"
    assert first.initials == "NB"
    assert first.username == "newbie"

    again = upsert_user(factory.db, {**data, "first_name": "Renamed"})
    assert again.balance == WELCOME_BONUS
    assert again.name == "Renamed Bee"
    assert again.joined_at == first.joined_at
    assert (
        factory.count("transactions", "kind = 'reward' AND to_user_id = :u", u=8_123_456_789) == 1
    )
    report = factory.assert_books()
    assert report["total_rewards"] == WELCOME_BONUS


def test_upsert_keeps_balance_earned_since(factory: Factory) -> None:
    alice = factory.member("alice", balance=400)
    factory.member("bob")
    transfer(factory.db, alice.id, "bob", 150, None, factory.key())
    again = upsert_user(factory.db, {"id": alice.id, "username": "alice", "first_name": "A"})
    assert again.balance == 250


def test_username_moves_to_its_new_holder(factory: Factory) -> None:
    sender = factory.member(balance=500)
    old = factory.member("alice")
    new = factory.member("Alice")  # Telegram gave the name to another account

    assert get_profile(factory.db, old.id).username is None
    assert get_profile(factory.db, new.id).username == "Alice"
    found = find_by_username(factory.db, "alice")
    assert found is not None
    assert found.id == new.id

    result = transfer(factory.db, sender.id, "@alice", 10, None, factory.key())
    assert result.recipient_id == new.id
    assert factory.balance(old.id) == WELCOME_BONUS


def test_username_change_frees_the_old_name(factory: Factory) -> None:
    alice = factory.member("alice")
    upsert_user(factory.db, {"id": alice.id, "username": "alice_2"})
    assert find_by_username(factory.db, "alice") is None
    found = find_by_username(factory.db, "alice_2")
    assert found is not None
    assert found.id == alice.id


def test_find_by_username_is_case_insensitive(factory: Factory) -> None:
    member = factory.member("CamelCase")
    for spelling in ("camelcase", "CAMELCASE", "@CamelCase"):
        found = find_by_username(factory.db, spelling)
        assert found is not None
        assert found.id == member.id
    assert find_by_username(factory.db, "nobody_here") is None


def test_member_without_username_is_not_found_by_username(factory: Factory) -> None:
    factory.member(None)
    with pytest.raises(InvalidInput):
        find_by_username(factory.db, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        find_by_username(factory.db, "")


def test_upsert_cleans_telegram_fields(factory: Factory) -> None:
    profile = upsert_user(
        factory.db,
        {
            "id": "8000000001",
            "username": None,
            "first_name": "\u202eAnna\x00",
            "last_name": "L" * 500,
            "photo_url": "https://t.me/i/userpic/320/a.jpg",
            "language_code": "en",
            "is_premium": "yes",
            "allows_write_to_pm": True,
        },
    )
    assert profile.id == 8_000_000_001
    assert profile.username is None
    assert profile.name == "Anna " + "L" * 128
    assert profile.photo_url == "https://t.me/i/userpic/320/a.jpg"
    row_premium = factory.count("users", "id = :u AND is_premium = false", u=8_000_000_001)
    assert row_premium == 1


def test_profile_of_nameless_member(factory: Factory) -> None:
    nameless = upsert_user(factory.db, {"id": 8_000_000_002})
    assert nameless.name == "Member"
    assert nameless.initials == "M"
    only_username = upsert_user(factory.db, {"id": 8_000_000_003, "username": "zed"})
    assert only_username.name == "@zed"
    assert only_username.initials == "Z"


def test_get_profile(factory: Factory) -> None:
    alice = factory.member("alice", balance=321, first_name="Alice", last_name="Martin")
    profile = get_profile(factory.db, alice.id)
    assert profile.balance == 321
    assert profile.name == "Alice Martin"
    assert profile.joined_at.tzinfo is not None
    with pytest.raises(NotFound):
        get_profile(factory.db, 4040404)
