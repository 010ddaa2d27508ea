"""seed(): the demo community balances its books, and the app works on top of it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.domain.banners import active_banners
from app.domain.db import Database
from app.domain.feed import feed_page
from app.domain.leaderboard import by_balance
from app.domain.ledger import books, books_balanced
from app.domain.market import buy, list_items
from app.domain.migrate import upgrade
from app.domain.seed import DEMO_MEMBERS, FIRST_ID, ITEMS, is_empty, seed
from app.domain.transfers import transfer
from app.domain.users import upsert_user

if TYPE_CHECKING:
    from tests.support.factory import Factory

NOW = datetime(2025, 3, 12, 12, tzinfo=UTC)


def test_seed_counts_and_books(factory: Factory) -> None:
    db = factory.db
    assert is_empty(db)

    written = seed(db, users=40, transactions=600, days=20, now=NOW, quiet=True)

    assert not is_empty(db)
    assert written["users"] == 40 == factory.count("users")
    assert written["transactions"] == 600 == factory.count("transactions")
    assert written["purchases"] == factory.count("purchases")
    assert written["purchases"] == factory.count("transactions", "kind = 'purchase'")
    assert written["items"] == len(ITEMS) == factory.count("market_items")
    assert written["banners"] == factory.count("banners")
    assert factory.count("transactions", "note = 'Welcome bonus'") == 40
    report = books(db)
    assert books_balanced(report), report
    assert report["total_transferred"] > 0
    assert report["total_spent"] > 0
    # Every purchase row matches its transaction.
    assert (
        factory.count(
            "purchases p JOIN transactions t ON t.id = p.transaction_id",
            "t.amount = p.price AND t.from_user_id = p.user_id AND t.item_id = p.item_id",
        )
        == written["purchases"]
    )
    # Stock never went negative and sold items were taken from stock.
    assert factory.count("market_items", "stock < 0") == 0


def test_app_works_on_seeded_data(factory: Factory) -> None:
    """New rows after a seed with explicit ids (PostgreSQL sequences must be moved on)."""
    db = factory.db
    seed(db, users=12, transactions=150, now=NOW, quiet=True)
    alice_id = FIRST_ID
    assert DEMO_MEMBERS[0][0] == "alice"
    factory.adjust(alice_id, 5000)

    sent = transfer(db, alice_id, "@Bob", 25, "after seed", factory.key())
    in_stock = next(i for i in list_items(db) if i.stock > 0)
    bought = buy(db, alice_id, in_stock.id, factory.key())
    newcomer = upsert_user(db, {"id": 9_000_000_001, "username": "newcomer"})

    assert sent.transaction_id > 150
    assert bought.transaction_id > sent.transaction_id
    assert newcomer.balance == 100
    assert feed_page(db, limit=3).items[0].id == factory.count("transactions")
    assert by_balance(db, alice_id).me is not None
    # The expired demo banner is filtered out; the others show, highest priority first.
    titles = [b.title for b in active_banners(db, now=NOW)]
    assert "Summer sale (ended)" not in titles
    assert titles[0] == "Welcome to the community"
    factory.assert_books()


def test_seed_is_deterministic_across_databases(factory: Factory, tmp_path: Path) -> None:
    """The same seed gives the same community on this database and on a fresh SQLite."""
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other_url)
    other = Database(other_url)
    try:
        seed(factory.db, users=20, transactions=200, now=NOW, quiet=True)
        seed(other, users=20, transactions=200, now=NOW, quiet=True)
        mine = [(e.user_id, e.score) for e in by_balance(factory.db, limit=100).entries]
        theirs = [(e.user_id, e.score) for e in by_balance(other, limit=100).entries]
        assert len(mine) == 20
        assert mine == theirs
        assert books(factory.db) == books(other)
    finally:
        other.dispose()
