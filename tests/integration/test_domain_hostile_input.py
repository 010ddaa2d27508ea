"""Bad input to every service gets a DomainError (or a valid result), never anything else.

Each case takes one argument of one public service and feeds it every hostile value while
the other arguments stay valid; any exception that is not a DomainError is collected and
reported together. Runs on SQLite and PostgreSQL, whose drivers fail differently
(OverflowError on SQLite, DataError on PostgreSQL), so both must be covered.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from app.domain import banners, feed, leaderboard, ledger, market, rewards, transfers, users
from app.domain.errors import DomainError

if TYPE_CHECKING:
    from tests.support.factory import Factory

TEN_MB = "x" * (10 * 1024 * 1024)

HOSTILE: list[Any] = [
    None,
    "",
    " ",
    "abc",
    "0",
    "-1",
    "1e9",
    "1.5",
    "NaN",
    "١٢٣",  # Arabic-Indic digits
    "1; DROP TABLE users; --",
    "' OR '1'='1",
    "\x00",
    "a\x00b",
    "\ud800",  # lone surrogate: not encodable as UTF-8
    "🍕" * 50,
    TEN_MB,
    "9" * 10_000,
    0,
    -1,
    -(2**63),
    2**31,
    2**53 + 1,
    2**63,
    2**64,
    10**100,
    -(10**100),
    1.5,
    -0.0,
    1e300,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    Decimal("1"),
    Decimal("NaN"),
    b"bytes",
    [],
    [1, 2],
    {},
    {"id": 1},
    (1,),
    {1, 2},
    object(),
    datetime(2025, 1, 1),
    Ellipsis,
]


@dataclass(frozen=True)
class Case:
    service: str
    argument: str
    call: Callable[[Any, Any, dict[str, Any]], object]
    extra: tuple[Any, ...] = ()  # values hostile only to this argument

    def __str__(self) -> str:
        return f"{self.service}.{self.argument}"


_keys = itertools.count(1)

BAD_CURSORS = (
    "~",
    "2025-01-01~x",
    "0001-01-01T00:00:00+14:00~1",  # leaves datetime's range once moved to UTC
    "9999-12-31T23:59:59-14:00~1",
    "2025-01-01T00:00:00+00:00~99999999999999999999",  # beyond BIGINT
    "2025-01-01T00:00:00+00:00~-99999999999999999999",
    "2025-01-01T00:00:00+00:00~0",
    "\x00~1",
    "2025-01-01T00:00:00+00:00~1",  # valid
)
BAD_USERNAMES = ("@", "@alice", "ALICE", "a" * 33, "al", "alice\x00", "@" * 64, "nobody_here")
BAD_KEYS = ("k" * 129, "abc def gh", "welcome-bonus", "daily-reward:2025-01-01", "%" * 8)


def key() -> str:
    return f"hostile-{next(_keys):08d}"


CASES = [
    # members
    Case("upsert_user", "data", lambda db, v, _: users.upsert_user(db, v)),
    Case("upsert_user", "id", lambda db, v, _: users.upsert_user(db, {"id": v})),
    *(
        Case(
            "upsert_user",
            field,
            lambda db, v, ctx, field=field: users.upsert_user(db, {"id": ctx["alice"], field: v}),
        )
        for field in ("username", "first_name", "last_name", "photo_url", "language_code")
    ),
    Case(
        "upsert_user",
        "is_premium",
        lambda db, v, ctx: users.upsert_user(db, {"id": ctx["alice"], "is_premium": v}),
    ),
    Case("get_profile", "user_id", lambda db, v, _: users.get_profile(db, v)),
    Case(
        "find_by_username",
        "username",
        lambda db, v, _: users.find_by_username(db, v),
        BAD_USERNAMES,
    ),
    # reads
    Case("feed_page", "cursor", lambda db, v, _: feed.feed_page(db, cursor=v), BAD_CURSORS),
    Case("feed_page", "limit", lambda db, v, _: feed.feed_page(db, limit=v)),
    Case("user_history", "user_id", lambda db, v, _: feed.user_history(db, v)),
    Case(
        "user_history",
        "cursor",
        lambda db, v, ctx: feed.user_history(db, ctx["alice"], cursor=v),
        BAD_CURSORS,
    ),
    Case("user_history", "limit", lambda db, v, ctx: feed.user_history(db, ctx["alice"], limit=v)),
    Case("by_balance", "user_id", lambda db, v, _: leaderboard.by_balance(db, v)),
    Case("by_balance", "limit", lambda db, v, _: leaderboard.by_balance(db, limit=v)),
    Case("this_week", "user_id", lambda db, v, _: leaderboard.this_week(db, v)),
    Case("this_week", "limit", lambda db, v, _: leaderboard.this_week(db, limit=v)),
    Case("get_item", "item_id", lambda db, v, _: market.get_item(db, v)),
    Case("user_purchases", "user_id", lambda db, v, _: market.user_purchases(db, v)),
    Case(
        "user_purchases",
        "limit",
        lambda db, v, ctx: market.user_purchases(db, ctx["alice"], limit=v),
    ),
    Case("reward_status", "user_id", lambda db, v, _: rewards.reward_status(db, v)),
    # writes
    Case("buy", "user_id", lambda db, v, ctx: market.buy(db, v, ctx["item"], key())),
    Case("buy", "item_id", lambda db, v, ctx: market.buy(db, ctx["alice"], v, key())),
    Case(
        "buy",
        "idempotency_key",
        lambda db, v, ctx: market.buy(db, ctx["alice"], ctx["item"], v),
        BAD_KEYS,
    ),
    Case("claim_daily_reward", "user_id", lambda db, v, _: rewards.claim_daily_reward(db, v)),
    Case(
        "transfer",
        "from_user_id",
        lambda db, v, _: transfers.transfer(db, v, "bob", 1, None, key()),
    ),
    Case(
        "transfer",
        "to_username",
        lambda db, v, ctx: transfers.transfer(db, ctx["alice"], v, 1, None, key()),
        BAD_USERNAMES,
    ),
    Case(
        "transfer",
        "amount",
        lambda db, v, ctx: transfers.transfer(db, ctx["alice"], "bob", v, None, key()),
        ("1,5", "1,000", "1_000", "+1", " 7 ", "1" * 27, "100000000"),
    ),
    Case(
        "transfer",
        "note",
        lambda db, v, ctx: transfers.transfer(db, ctx["alice"], "bob", 1, v, key()),
        ("\u202e" * 200, "x" * 141, "\x00" * 10_000, "\n" * 141),
    ),
    Case(
        "transfer",
        "idempotency_key",
        lambda db, v, ctx: transfers.transfer(db, ctx["alice"], "bob", 1, None, v),
        BAD_KEYS,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_input_gets_a_domain_error(factory: Factory, case: Case) -> None:
    alice = factory.member("alice", balance=100_000)
    factory.member("bob")
    item = factory.item(price=1, stock=1000)
    ctx = {"alice": alice.id, "item": item}

    unhandled: list[str] = []
    for value in [*HOSTILE, *case.extra]:
        try:
            case.call(factory.db, value, ctx)
        except DomainError as exc:
            assert exc.message, f"{case}({value!r:.40}) raised a DomainError without a message"
        except Exception as exc:
            unhandled.append(f"{value!r:.60} -> {type(exc).__name__}: {str(exc)[:200]}")
    assert not unhandled, f"{case} raised non-domain errors:\n" + "\n".join(unhandled)

    # Whatever went through, the books still balance and nothing else is left broken.
    factory.assert_books()
    market.list_items(factory.db)
    banners.active_banners(factory.db)
    assert ledger.books_balanced(ledger.books(factory.db))
