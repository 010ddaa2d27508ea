"""Demo data: a believable community whose books balance.

    python -m app.domain.seed                      # small set: 200 members, 3,000 transactions
    python -m app.domain.seed --if-empty           # what `make run` does on first start
    python -m app.domain.seed --users 10000 --transactions 200000 --reset   # for bench/

The history is simulated in time order (welcome bonuses, daily rewards, transfers between
members who can afford them, purchases while stock lasts), so every balance and stock
figure is exactly what the transactions say.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from tqdm import tqdm

from app.domain.db import Database
from app.domain.demo_art import write_art
from app.domain.models import Banner, MarketItem, Purchase, Transaction, TxKind, User, table, utcnow
from app.domain.rewards import DAILY_REWARD
from app.domain.welcome import WELCOME_BONUS, WELCOME_KEY

FIRST_ID = 1_000_001
# Demo members with fixed ids and usernames: the dev launch link opens the app as them.
DEMO_MEMBERS = [
    ("alice", "Alice", "Martin"),
    ("bob", "Bob", "Kowalski"),
    ("carol", "Carol", "Nguyen"),
    ("dave", "Dave", "Okafor"),
    ("erin", "Erin", "Schmidt"),
]
FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Felix",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Leo",
    "Maya",
    "Nico",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xenia",
    "Yuki",
    "Zane",
    "Amir",
    "Bianca",
    "Carlos",
    "Dara",
    "Emil",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Karim",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Rafael",
    "Sofia",
    "Theo",
    "Uma",
    "Viktor",
    "Wanda",
    "Yara",
    "Zoe",
    "Aiko",
    "Bruno",
    "Celine",
    "Dmitri",
    "Esra",
    "Farid",
    "Greta",
    "Hassan",
    "Ines",
    "Jamal",
]
LAST_NAMES = [
    "Silva",
    "Novak",
    "Rossi",
    "Kim",
    "Garcia",
    "Meyer",
    "Haddad",
    "Ivanova",
    "Laurent",
    "Costa",
    "Berg",
    "Tanaka",
    "Mensah",
    "Ali",
    "Fischer",
    "Moreau",
    "Popescu",
    "Yilmaz",
    "Larsen",
    "Sato",
    "Dubois",
    "Romano",
    "Petrov",
    "Kaya",
    "Horvat",
    "Lopez",
    "Singh",
    "Weber",
    "Jensen",
    "Rahman",
    "Brown",
    "Cohen",
    "Akhtar",
    "Lindqvist",
    "Okoro",
    "Ferreira",
    "Nowak",
    "Bauer",
    "Suzuki",
]
ITEMS = [
    (
        "sticker-pack.svg",
        "🎨",
        "Sticker pack",
        "Twelve community stickers for your laptop.",
        40,
        500,
    ),
    ("coffee.svg", "☕", "Coffee with the team", "A virtual coffee with the core team.", 120, 40),
    ("tshirt.svg", "👕", "Community T-shirt", "Soft organic cotton, one size fits most.", 300, 60),
    ("hoodie.svg", "🧥", "Hoodie", "Warm, with the logo on the back.", 650, 25),
    ("mug.svg", "🍵", "Mug", "Keeps your tea hot through long threads.", 180, 80),
    (
        "badge.svg",
        "🏅",
        "Early access badge",
        "A profile badge and early access to betas.",
        90,
        1000,
    ),
    ("emoji.svg", "😎", "Custom emoji", "Your own emoji in the community chat.", 250, 30),
    ("mentoring.svg", "🧭", "Mentoring call", "Thirty minutes one to one with a mentor.", 800, 8),
    ("ticket.svg", "🎟️", "Meetup ticket", "A seat at the next community meetup.", 1200, 5),
    ("notebook.svg", "📓", "Notebook", "Dotted pages for ideas and sketches.", 150, 70),
    ("socks.svg", "🧦", "Socks", "Colourful socks with tiny logos.", 110, 3),
    ("plushie.svg", "🧸", "Plushie", "The community mascot, huggable.", 420, 0),
]
BANNERS = [
    ("banner-welcome.svg", "Welcome to the community", "Claim your daily reward every day", 30),
    ("banner-market.svg", "New in the market", "Hoodies and meetup tickets are back", 20),
    (
        "banner-leaderboard.svg",
        "Climb the leaderboard",
        "Top members of the week win a plushie",
        10,
    ),
]
NOTES = [
    "Thanks for the help!",
    "For the pizza 🍕",
    "Great talk today",
    "Welcome aboard",
    "For the design review",
    "Happy birthday! 🎉",
    "You earned it",
    None,
    None,
    None,
]


@dataclass
class _Member:
    id: int
    balance: int
    joined_at: datetime
    claimed: set[str]


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(db: Database, table: Any, rows: list[dict[str, Any]], label: str, quiet: bool) -> None:
    size = 5000
    with db.write() as s, tqdm(total=len(rows), desc=label, unit="row", disable=quiet) as bar:
        for chunk in _chunks(rows, size):
            s.execute(table.insert(), chunk)
            bar.update(len(chunk))


def reset(db: Database) -> None:
    with db.write() as s:
        for model in (Purchase, Transaction, Banner, MarketItem, User):
            s.execute(delete(table(model)))


def is_empty(db: Database) -> bool:
    with db.read() as s:
        return not s.execute(select(func.count()).select_from(table(User))).scalar_one()


def seed(
    db: Database,
    *,
    users: int = 200,
    transactions: int = 3000,
    days: int = 30,
    random_seed: int = 7,
    now: datetime | None = None,
    quiet: bool = False,
) -> dict[str, int]:
    """Load the demo community into an empty database; returns what was written."""
    rng = random.Random(random_seed)
    now = now or utcnow()
    start = now - timedelta(days=days)
    write_art([(f, sym, title) for f, sym, title, *_ in ITEMS], [(f, t) for f, t, *_ in BANNERS])

    users = max(users, len(DEMO_MEMBERS) + 2)
    user_rows: list[dict[str, Any]] = []
    members: list[_Member] = []
    for index in range(users):
        uid = FIRST_ID + index
        username: str | None
        if index < len(DEMO_MEMBERS):
            username, first, last = DEMO_MEMBERS[index]
            joined = start
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            username = f"{first}_{last}_{index}".lower() if rng.random() < 0.8 else None
            joined = start + timedelta(seconds=rng.uniform(0, days * 86400 * 0.6))
        user_rows.append(
            {
                "id": uid,
                "username": username,
                "username_key": username.lower() if username else None,
                "first_name": first,
                "last_name": last if rng.random() < 0.9 or index < len(DEMO_MEMBERS) else None,
                "photo_url": None,
                "language_code": "en",
                "is_premium": rng.random() < 0.1,
                "joined_at": joined,
                "last_seen_at": joined,
            }
        )
        members.append(_Member(uid, 0, joined, set()))

    item_rows: list[dict[str, Any]] = [
        {
            "id": i + 1,
            "title": title,
            "description": desc,
            "price": price,
            "stock": stock,
            "image": f"/demo/{f}",
            "active": True,
            "created_at": start,
        }
        for i, (f, _sym, title, desc, price, stock) in enumerate(ITEMS)
    ]
    banner_rows = [
        {
            "id": i + 1,
            "title": title,
            "subtitle": subtitle,
            "image": f"/demo/{f}",
            "link": "",
            "priority": priority,
            "starts_at": start,
            "ends_at": None,
            "active": True,
        }
        for i, (f, title, subtitle, priority) in enumerate(BANNERS)
    ]
    # An expired banner keeps the active-window filter honest.
    banner_rows.append(
        {
            "id": len(banner_rows) + 1,
            "title": "Summer sale (ended)",
            "subtitle": "",
            "image": "/demo/banner-market.svg",
            "link": "",
            "priority": 99,
            "starts_at": start,
            "ends_at": start + timedelta(days=1),
            "active": True,
        }
    )

    tx_rows: list[dict[str, Any]] = []
    purchase_rows: list[dict[str, Any]] = []

    def add_tx(**row: Any) -> int:
        tx_id = row["id"] = len(tx_rows) + 1
        row.setdefault("note", None)
        row.setdefault("item_id", None)
        tx_rows.append(row)
        return tx_id

    # Events in time order: welcome bonuses at join time, then the simulated activity.
    for m in sorted(members, key=lambda m: m.joined_at):
        m.balance += WELCOME_BONUS
        add_tx(
            kind=TxKind.REWARD.value,
            amount=WELCOME_BONUS,
            actor_id=m.id,
            from_user_id=None,
            to_user_id=m.id,
            note="Welcome bonus",
            idempotency_key=WELCOME_KEY,
            created_at=m.joined_at,
        )
    budget = max(transactions - len(tx_rows), 0)
    span = (now - timedelta(hours=1) - start).total_seconds()
    stamps = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(budget))
    stock = {row["id"]: row["stock"] for row in item_rows}
    price = {row["id"]: row["price"] for row in item_rows}
    # Zipf-like activity: a few members are much more active than most. Members are
    # drawn from those who joined before the event, through a prefix of cumulative weights.
    by_join = sorted(members, key=lambda m: m.joined_at)
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(by_join))]
    rng.shuffle(weights)
    cumulative = list(itertools.accumulate(weights))
    joined_count = 0  # members who joined before the current event
    today = now.date().isoformat()

    def simulate(stamp: datetime) -> bool:
        """One event at `stamp`; False when the drawn member could not act."""
        actor = by_join[
            bisect.bisect(cumulative, rng.random() * cumulative[joined_count - 1], 0, joined_count)
        ]
        roll = rng.random()
        day = stamp.date().isoformat()
        if roll < 0.3:
            if day in actor.claimed or day == today:
                return False
            actor.claimed.add(day)
            actor.balance += DAILY_REWARD
            add_tx(
                kind=TxKind.REWARD.value,
                amount=DAILY_REWARD,
                actor_id=actor.id,
                from_user_id=None,
                to_user_id=actor.id,
                note="Daily reward",
                idempotency_key=f"daily-reward:{day}",
                created_at=stamp,
            )
            return True
        if roll < 0.9:
            recipient = by_join[rng.randrange(joined_count)]
            amount = rng.choice([5, 10, 10, 20, 25, 50, 100])
            if recipient.id == actor.id or actor.balance < amount:
                return False
            actor.balance -= amount
            recipient.balance += amount
            add_tx(
                kind=TxKind.TRANSFER.value,
                amount=amount,
                actor_id=actor.id,
                from_user_id=actor.id,
                to_user_id=recipient.id,
                note=rng.choice(NOTES),
                idempotency_key=f"seed-{len(tx_rows) + 1}",
                created_at=stamp,
            )
            return True
        affordable = [i for i, left in stock.items() if left > 0 and price[i] <= actor.balance]
        if not affordable:
            return False
        item_id = rng.choice(affordable)
        stock[item_id] -= 1
        actor.balance -= price[item_id]
        tx_id = add_tx(
            kind=TxKind.PURCHASE.value,
            amount=price[item_id],
            actor_id=actor.id,
            from_user_id=actor.id,
            to_user_id=None,
            item_id=item_id,
            note=item_rows[item_id - 1]["title"],
            idempotency_key=f"seed-{len(tx_rows) + 1}",
            created_at=stamp,
        )
        purchase_rows.append(
            {
                "id": len(purchase_rows) + 1,
                "user_id": actor.id,
                "item_id": item_id,
                "price": price[item_id],
                "transaction_id": tx_id,
                "created_at": stamp,
            }
        )
        return True

    for stamp in tqdm(stamps, desc="simulating", unit="tx", disable=quiet):
        while joined_count < len(by_join) and by_join[joined_count].joined_at <= stamp:
            joined_count += 1
        # Retry with other members until someone can act, so the count is what was asked.
        for _ in range(50):
            if simulate(stamp):
                break

    balances = {m.id: m.balance for m in members}
    for row in user_rows:
        row["balance"] = balances[row["id"]]
    for row in item_rows:
        row["stock"] = stock[row["id"]]

    _insert(db, table(User), user_rows, "members", quiet)
    _insert(db, table(MarketItem), item_rows, "items", quiet)
    _insert(db, table(Banner), banner_rows, "banners", quiet)
    _insert(db, table(Transaction), tx_rows, "transactions", quiet)
    _insert(db, table(Purchase), purchase_rows, "purchases", quiet)
    _sync_sequences(db)
    return {
        "users": len(user_rows),
        "transactions": len(tx_rows),
        "purchases": len(purchase_rows),
        "items": len(item_rows),
        "banners": len(banner_rows),
    }


def _sync_sequences(db: Database) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the data."""
    if db.is_sqlite:
        return
    with db.write() as s:
        for table in ("market_items", "banners", "transactions", "purchases"):
            s.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            )


def main() -> None:
    from app.domain.migrate import upgrade
    from app.settings import get_settings

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.add_argument("--if-empty", action="store_true", help="do nothing if members exist")
    parser.add_argument("--reset", action="store_true", help="delete all data first")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    url = args.url or get_settings().database_url
    upgrade(url)
    db = Database(url)
    if args.reset:
        reset(db)
        # A running app may hold cached results of the old data: retire them all.
        from app.cache import get_cache

        if url == get_settings().database_url:
            get_cache().retire_everything()
    elif not is_empty(db):
        if args.if_empty:
            print("Demo data already loaded.")
            return
        raise SystemExit("The database has members already; pass --reset to replace them.")
    started = datetime.now(UTC)
    written = seed(
        db,
        users=args.users,
        transactions=args.transactions,
        days=args.days,
        random_seed=args.seed,
        quiet=args.quiet,
    )
    took = (datetime.now(UTC) - started).total_seconds()
    print("Loaded " + ", ".join(f"{v:,} {k}" for k, v in written.items()) + f" in {took:.1f} s.")


if __name__ == "__main__":
    main()
