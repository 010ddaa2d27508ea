"""Concurrent writes on real PostgreSQL (and the 50 buyers on SQLite too).

Threads start together behind a barrier, so the writes really overlap; every outcome is
either a result or a DomainError, never a driver error, deadlock or hang.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from app.domain.errors import AlreadyClaimed, DomainError, InsufficientBalance, OutOfStock
from app.domain.market import buy
from app.domain.rewards import DAILY_REWARD, claim_daily_reward
from app.domain.transfers import transfer
from app.domain.users import WELCOME_BONUS, upsert_user
from app.domain.views import PurchaseResult, RewardResult, TransferResult

if TYPE_CHECKING:
    from tests.support.factory import Factory

NOW = datetime(2025, 3, 12, 12, tzinfo=UTC)
TIMEOUT = 60  # seconds for a whole batch; a deadlock or lost wake-up fails instead of hanging


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=TIMEOUT)
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        outcomes = [f.result(timeout=TIMEOUT) for f in futures]
    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, DomainError)
    ]
    assert not unexpected, f"non-domain errors under concurrency: {unexpected[:5]!r}"
    return outcomes


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.integration), "sqlite"])
def any_factory(request: pytest.FixtureRequest) -> Factory:
    """PostgreSQL, and SQLite (file, WAL, BEGIN IMMEDIATE) to show the rule holds there too."""
    name = "pg_factory" if request.param == "postgres" else "sqlite_factory"
    return request.getfixturevalue(name)


def test_50_buyers_of_5_items(any_factory: Factory) -> None:
    factory = any_factory
    price, stock, buyers = 30, 5, 50
    members = factory.members(buyers)
    item = factory.item(price=price, stock=stock)

    outcomes = run_together(
        [lambda m=m: buy(factory.db, m.id, item, factory.key()) for m in members]
    )

    wins = [o for o in outcomes if isinstance(o, PurchaseResult)]
    sold_out = [o for o in outcomes if isinstance(o, OutOfStock)]
    assert len(wins) == stock
    assert len(sold_out) == buyers - stock
    assert factory.stock(item) == 0
    assert factory.count("purchases") == stock
    assert factory.count("transactions", "kind = 'purchase'") == stock
    winners = {w.purchase_id for w in wins}
    assert len(winners) == stock
    by_member = {m.id: factory.balance(m.id) for m in members}
    charged = [uid for uid, balance in by_member.items() if balance == WELCOME_BONUS - price]
    untouched = [uid for uid, balance in by_member.items() if balance == WELCOME_BONUS]
    assert len(charged) == stock, "each winner is charged the price exactly once"
    assert len(untouched) == buyers - stock
    assert sorted(w.balance for w in wins) == [WELCOME_BONUS - price] * stock
    report = factory.assert_books()
    # The sum of all balances plus all spending equals all rewards ever granted.
    assert report["total_spent"] == stock * price
    assert report["total_balance"] + report["total_spent"] == report["total_rewards"]
    assert report["total_rewards"] == buyers * WELCOME_BONUS


@pytest.mark.integration
def test_20_retries_of_one_transfer_charge_once(pg_factory: Factory) -> None:
    factory = pg_factory
    # Sending the whole balance: once the first attempt commits, a retry that checked the
    # balance again instead of finding the first result would fail with "not enough points".
    alice = factory.member("alice")
    bob = factory.member("bob")
    key = factory.key()

    outcomes = run_together(
        [lambda: transfer(factory.db, alice.id, "@bob", WELCOME_BONUS, "all in", key)] * 20
    )

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, f"a retry of a committed transfer failed: {errors[:3]!r}"
    assert all(isinstance(o, TransferResult) for o in outcomes)
    assert len({o.transaction_id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert all(o.balance == 0 and o.recipient_id == bob.id for o in outcomes)
    assert factory.count("transactions", "kind = 'transfer'") == 1
    assert factory.balance(alice.id) == 0
    assert factory.balance(bob.id) == 2 * WELCOME_BONUS
    factory.assert_books()


@pytest.mark.integration
def test_20_retries_of_one_purchase_charge_once(pg_factory: Factory) -> None:
    factory = pg_factory
    alice = factory.member()
    # The last one in stock: a retry must find the first result, not "sold out".
    item = factory.item(price=40, stock=1)
    key = factory.key()

    outcomes = run_together([lambda: buy(factory.db, alice.id, item, key)] * 20)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, f"a retry of a committed purchase failed: {errors[:3]!r}"
    assert len({o.purchase_id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert factory.count("purchases") == 1
    assert factory.stock(item) == 0
    assert factory.balance(alice.id) == WELCOME_BONUS - 40
    factory.assert_books()


@pytest.mark.integration
def test_crossing_transfers_do_not_deadlock(pg_factory: Factory) -> None:
    factory = pg_factory
    start = 1_000
    alice = factory.member("alice", balance=start)
    bob = factory.member("bob", balance=start)
    rng = random.Random(5)

    def worker(sender: int, to: str, amounts: list[int]) -> list[Any]:
        outcomes: list[Any] = []
        for amount in amounts:
            try:
                outcomes.append(transfer(factory.db, sender, to, amount, None, factory.key()))
            except InsufficientBalance as exc:
                outcomes.append(exc)
        return outcomes

    calls = []
    for n in range(8):
        sender, to = (alice.id, "bob") if n % 2 else (bob.id, "alice")
        amounts = [rng.randint(1, 120) for _ in range(25)]
        calls.append(lambda s=sender, t=to, a=amounts: worker(s, t, a))

    batches = run_together(calls)

    done = [o for batch in batches for o in batch if isinstance(o, TransferResult)]
    assert len(done) == factory.count("transactions", "kind = 'transfer'")
    assert len(done) > 100  # most of the 200 went through
    assert factory.balance(alice.id) + factory.balance(bob.id) == 2 * start
    factory.assert_books()


@pytest.mark.integration
def test_concurrent_claims_of_the_daily_reward(pg_factory: Factory) -> None:
    factory = pg_factory
    alice = factory.member()

    outcomes = run_together([lambda: claim_daily_reward(factory.db, alice.id, now=NOW)] * 20)

    assert sum(isinstance(o, RewardResult) for o in outcomes) == 1
    assert sum(isinstance(o, AlreadyClaimed) for o in outcomes) == 19
    assert factory.balance(alice.id) == WELCOME_BONUS + DAILY_REWARD
    assert factory.count("transactions", "note = 'Daily reward'") == 1
    factory.assert_books()


@pytest.mark.integration
def test_concurrent_first_visits_give_one_welcome_bonus(pg_factory: Factory) -> None:
    factory = pg_factory
    data = {"id": 8_765_432_101, "username": "twin", "first_name": "Twin"}

    outcomes = run_together([lambda: upsert_user(factory.db, data)] * 20)

    assert all(o.id == data["id"] for o in outcomes)
    assert factory.count("users") == 1
    assert factory.count("transactions", "kind = 'reward'") == 1
    assert factory.balance(8_765_432_101) == WELCOME_BONUS
    factory.assert_books()


@pytest.mark.integration
def test_mixed_traffic_keeps_the_books(pg_factory: Factory) -> None:
    """Transfers in every direction, purchases and claims at once: no deadlock, no leak."""
    factory = pg_factory
    members = [factory.member(f"m{n}_member", balance=500) for n in range(6)]
    items = [factory.item(price=p, stock=s) for p, s in ((25, 4), (60, 2), (10, 30))]
    rng = random.Random(11)

    def worker(seed: int) -> int:
        local = random.Random(seed)
        done = 0
        for _ in range(20):
            me = local.choice(members)
            roll = local.random()
            try:
                if roll < 0.6:
                    other = local.choice([m for m in members if m.id != me.id])
                    assert other.username is not None
                    amount = local.randint(1, 80)
                    transfer(factory.db, me.id, other.username, amount, None, factory.key())
                elif roll < 0.9:
                    buy(factory.db, me.id, local.choice(items), factory.key())
                else:
                    claim_daily_reward(factory.db, me.id, now=NOW)
                done += 1
            except (InsufficientBalance, OutOfStock, AlreadyClaimed):
                pass
        return done

    seeds = [rng.randrange(10**9) for _ in range(12)]
    results = run_together([lambda s=s: worker(s) for s in seeds])

    assert sum(results) > 0
    report = factory.assert_books()
    assert report["total_rewards"] >= 6 * 500
    for item, stock in zip(items, (4, 2, 30), strict=True):
        sold = factory.count("purchases", "item_id = :i", i=item)
        assert factory.stock(item) == stock - sold
