"""The read-through cache in front of the screens' queries: TTLs per policy, hits and misses
(with the SQL statements they cost), key layout, lossless serialization, corrupt entries.

Runs on the in-process backend and on real Redis (logical DB 15) where both make sense.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
import redis
from redis.crc import key_slot

from app.cache import keys
from app.cache import policy as policies
from app.cache.backends import Backend, RedisBackend
from app.cache.keys import EPOCH_KEY
from app.cache.policy import NAMESPACE, Policy
from app.cache.readthrough import Cache
from app.domain import queries
from app.domain.db import Database
from app.domain.market import buy
from app.domain.transfers import transfer
from app.domain.views import (
    BannerView,
    FeedItem,
    FeedPage,
    Leaderboard,
    LeaderEntry,
    MarketItemView,
    PurchaseView,
    UserProfile,
)

if TYPE_CHECKING:
    from tests.support.cache import SqlCounter
    from tests.support.factory import Factory


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def seed_small(factory: Factory) -> dict[str, Any]:
    """Two members, a transfer, an item bought, a banner: every screen has something."""
    db = factory.db
    alice = factory.member("alice", first_name="Alice", balance=500)
    bob = factory.member("bob", first_name="Bob", balance=200)
    item = factory.item(price=30, stock=4, title="Mug")
    factory.banner("Welcome", priority=1)
    transfer(db, alice.id, "bob", 25, "thanks", factory.key())
    buy(db, alice.id, item, factory.key())
    return {"alice": alice.id, "bob": bob.id, "item": item}


def every_screen(db: Database, ids: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """Each cached read of the screens, named after what it shows."""
    a, item = ids["alice"], ids["item"]
    return {
        "feed": lambda: queries.feed_page(db),
        "history": lambda: queries.history(db, a),
        "board_all": lambda: queries.board(db, "all"),
        "board_week_me": lambda: queries.board(db, "week", a),
        "market_items": lambda: queries.market_items(db),
        "market_item": lambda: queries.market_item(db, item),
        "banners": lambda: queries.active_banners(db),
        "profile": lambda: queries.profile(db, a),
        "purchases": lambda: queries.purchases(db, a),
    }


def scan_keys(client: redis.Redis) -> list[str]:
    return sorted(k.decode() for k in client.scan_iter(count=1000))


# ---------------------------------------------------------------------------------------
# 1. TTL per policy
# ---------------------------------------------------------------------------------------


def test_policy_table_is_the_product_brief() -> None:
    assert {name: p.ttl_s for name, p in policies.POLICIES.items()} == {
        "feed": 30,
        "leaderboard": 60,
        "market": 300,
        "banners": 300,
        "profile": 60,
    }


REDIS_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("redis", marks=pytest.mark.integration)], indirect=True
)


@REDIS_ONLY
def test_each_query_stores_with_its_policy_ttl(
    cached_factory: Factory, redis_client: redis.Redis
) -> None:
    """PTTL of every stored entry is within (ttl - 2 s, ttl] of the query's policy."""
    db = cached_factory.db
    assert isinstance(db.cache.backend, RedisBackend)
    ids = seed_small(cached_factory)
    a, item = ids["alice"], ids["item"]
    expected = {
        keys.FEED.key("page", "first", 20).text: 30,
        keys.history(a).key("first", 20).text: 30,
        keys.LEADERBOARD.key("top", "all", 50).text: 60,
        keys.LEADERBOARD.key("top", "week", 50).text: 60,
        keys.LEADERBOARD.key("rank", "week", a).text: 60,
        keys.MARKET.key("items").text: 300,
        keys.MARKET.key("item", item).text: 300,
        keys.BANNERS.key("active").text: 300,
        keys.profile(a).key("view").text: 60,
        keys.purchases(a).key(50).text: 60,
    }
    redis_client.flushdb()
    for read in every_screen(db, ids).values():
        read()
    queries.board(db, "all")
    for key, ttl in expected.items():
        pttl = redis_client.pttl(key)
        assert (ttl - 2) * 1000 < pttl <= ttl * 1000, f"{key}: PTTL {pttl} ms, policy {ttl} s"


@pytest.mark.integration
@pytest.mark.parametrize("policy", list(policies.POLICIES.values()), ids=lambda p: p.name)
def test_get_or_load_uses_the_policy_ttl(
    redis_backend: RedisBackend, redis_client: redis.Redis, policy: Policy
) -> None:
    cache = Cache(redis_backend)
    key = keys.FEED.key("ttl-probe", policy.name)
    assert cache.get_or_load(key, policy, lambda: [1, 2, 3], list[int]) == [1, 2, 3]
    pttl = redis_client.pttl(key.text)
    assert (policy.ttl_s - 2) * 1000 < pttl <= policy.ttl_s * 1000


def test_short_policy_really_expires(backend: Backend) -> None:
    cache = Cache(backend)
    short = Policy("x", 1)
    key = keys.profile(42).key("short")
    calls: list[int] = []

    def loader() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_load(key, short, loader, int) == 1
    assert cache.get_or_load(key, short, loader, int) == 1  # within the TTL: a hit
    time.sleep(1.1)
    assert backend.read([key.text]) == [None], "the entry outlived its TTL"
    assert cache.get_or_load(key, short, loader, int) == 2  # expired: loaded again
    assert cache.stats.policies["x"].hits == 1
    assert cache.stats.policies["x"].loads == 2


# ---------------------------------------------------------------------------------------
# 2. Hits and misses, and what they cost the database
# ---------------------------------------------------------------------------------------


def test_second_read_is_a_hit_without_sql(
    cached_factory: Factory, count_sql: type[SqlCounter]
) -> None:
    db = cached_factory.db
    ids = seed_small(cached_factory)
    for name, read in every_screen(db, ids).items():
        stats = db.cache.stats
        # Each screen's first read on its own: the leaderboard's rank also caches the
        # profile it shows, which would make the profile's first read a hit.
        db.cache.invalidate(keys.profile(ids["alice"]), keys.profile(ids["bob"]), keys.LEADERBOARD)
        with count_sql(db) as sql:
            loads, hits = stats.total("loads"), stats.total("hits")
            first = read()
            assert sql.count > 0, f"{name}: the first read did not reach the database"
            assert stats.total("loads") > loads, name
            sql.reset()
            second = read()
            assert sql.count == 0, f"{name}: a cached read ran SQL: {sql.statements}"
            assert stats.total("hits") > hits, f"{name}: the second read was not a hit"
            assert second == first, name


def test_stats_per_policy(cached_factory: Factory) -> None:
    db = cached_factory.db
    ids = seed_small(cached_factory)
    cache = db.cache
    before = {name: (s.hits, s.misses, s.loads) for name, s in cache.stats.policies.items()}
    queries.profile(db, ids["alice"])
    queries.profile(db, ids["alice"])
    queries.profile(db, ids["alice"])
    queries.market_items(db)
    profile = cache.stats.policies["profile"]
    h0, m0, l0 = before.get("profile", (0, 0, 0))
    assert (profile.hits - h0, profile.misses - m0, profile.loads - l0) == (2, 1, 1)
    assert profile.load_seconds > 0
    market = cache.stats.policies["market"]
    assert (market.hits, market.misses, market.loads) == (0, 1, 1)
    assert cache.stats.total("errors") == 0


# ---------------------------------------------------------------------------------------
# 7. Keys: namespace with the schema version, hash tags, cluster slots
# ---------------------------------------------------------------------------------------


@REDIS_ONLY
def test_keys_are_namespaced_and_hash_tagged(
    cached_factory: Factory, redis_client: redis.Redis
) -> None:
    db = cached_factory.db
    ids = seed_small(cached_factory)  # its writes bumped generation keys
    for read in every_screen(db, ids).values():
        read()
    queries.history(db, ids["bob"])
    queries.profile(db, ids["bob"])
    found = scan_keys(redis_client)
    assert NAMESPACE == "ma:v1"
    assert found, "nothing was stored in Redis DB 15"
    assert all(k.startswith("ma:v1:") for k in found), found

    a, b = ids["alice"], ids["bob"]
    for uid in (a, b):
        assert f"ma:v1:{{u:{uid}}}:profile:view" in found
        assert f"ma:v1:{{u:{uid}}}:profile:gen" in found
        assert f"ma:v1:{{u:{uid}}}:history:first:20" in found
    assert f"ma:v1:{{u:{a}}}:purchases:50" in found
    for family in ("feed", "leaderboard", "market"):  # what was written
        assert f"ma:v1:{{{family}}}:gen" in found, family
    for member in (a, b):
        assert f"ma:v1:{{u:{member}}}:profile:gen" in found, member

    # Every key of a member carries the member's tag and nobody else's.
    member_keys = [k for k in found if ":{u:" in k]
    for k in member_keys:
        assert k.startswith(("ma:v1:{u:" + str(a) + "}:", "ma:v1:{u:" + str(b) + "}:")), k
    # Entries live in the slot of their family's generation counter (Redis Cluster).
    for k in found:
        if k == EPOCH_KEY:
            continue
        tag = k.split("{", 1)[1].split("}", 1)[0]
        assert key_slot(k.encode()) == key_slot(f"ma:v1:{{{tag}}}:gen".encode()), k
    # Generation counters outlive every entry (entries live at most 5 minutes).
    gen_ttl = redis_client.ttl(f"ma:v1:{{u:{a}}}:profile:gen")
    assert 300 < gen_ttl <= 24 * 3600


def test_hostile_arguments_never_reach_a_key(cached_db: Database) -> None:
    from app.domain.errors import InvalidInput

    for bad in ("1:profile", "{u:2}", "x" * 300, -1, 2**70, None):
        with pytest.raises(InvalidInput):
            queries.profile(cached_db, bad)
    with pytest.raises(InvalidInput):
        queries.feed_page(cached_db, cursor="garbage:{feed}")
    assert cached_db.cache.stats.total("misses") == 0


# ---------------------------------------------------------------------------------------
# 8. Serialization round trip
# ---------------------------------------------------------------------------------------

T0 = datetime(2025, 3, 12, 12, 30, 45, 123456, tzinfo=UTC)
AWARE_SAMPLES: list[tuple[Any, Any]] = [
    (
        FeedPage(
            items=[
                FeedItem(
                    id=2**40,
                    kind="transfer",
                    amount=7,
                    created_at=T0,
                    from_id=7_000_000_001,
                    from_name="Ålice 🚀",
                    to_id=7_000_000_002,
                    to_name="@bob",
                    item_title=None,
                    note="for the \x00 coffee ☕",
                ),
                FeedItem(
                    3, "purchase", 30, T0 + timedelta(seconds=1), 1, "A", None, None, "Mug", None
                ),
            ],
            next_cursor="MjAyNS0wMy0xMlQxMjozMDo0NS4xMjM0NTYrMDA6MDB8Mw",
        ),
        FeedPage,
    ),
    (FeedPage(items=[], next_cursor=None), FeedPage),
    (
        Leaderboard(
            period="week",
            entries=[LeaderEntry(1, 5, "Bob", "B", None, "https://t.me/i/b.jpg", 999_999)],
            me=LeaderEntry(17, 9, "Me Myself", "MM", "me", None, 0),
            members=10_000,
        ),
        Leaderboard,
    ),
    (Leaderboard(period="all", entries=[], me=None, members=0), Leaderboard),
    (LeaderEntry(3, 4, "X", "X", None, None, -5), LeaderEntry | None),
    (None, LeaderEntry | None),
    (
        [MarketItemView(1, "Mug", "A mug\nwith 'quotes'", 30, 0, "/demo/mug.svg")],
        list[MarketItemView],
    ),
    ([], list[MarketItemView]),
    (
        [BannerView(1, "Hi", "", "", ""), BannerView(2, "Ünï", "s", "/i.svg", "/market")],
        list[BannerView],
    ),
    (UserProfile(2**53 + 1, None, "Member", "M", None, 0, T0), UserProfile),
    (
        [PurchaseView(1, 2, "Mug", "/m.svg", 30, T0), PurchaseView(2, 2, "Mug", "", 30, T0)],
        list[PurchaseView],
    ),
]


def assert_same(a: Any, b: Any, path: str = "value") -> None:
    """Equal, same types all the way down, and datetimes with the same offset."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, datetime):
        assert a == b and a.utcoffset() == b.utcoffset(), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif hasattr(a, "__slots__") and hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            assert_same(getattr(a, name), getattr(b, name), f"{path}.{name}")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def read_back(backend: Backend, key: Any, policy: Policy, type_: Any) -> Any:
    """Read through a fresh Cache (no in-process state) whose loader must not run."""

    def must_not_load() -> Any:
        raise AssertionError("expected a hit")

    return Cache(backend).get_or_load(key, policy, must_not_load, type_)


@pytest.mark.parametrize("index", range(len(AWARE_SAMPLES)))
def test_round_trip_of_every_cached_type(backend: Backend, index: int) -> None:
    value, type_ = AWARE_SAMPLES[index]
    key = keys.profile(1).key("rt", index)
    assert Cache(backend).get_or_load(key, policies.PROFILE, lambda: value, type_) is value
    assert_same(value, read_back(backend, key, policies.PROFILE, type_))


def test_round_trip_keeps_the_instant_of_other_offsets(backend: Backend) -> None:
    """The domain only produces UTC; another offset keeps its instant (shown as UTC)."""
    india = datetime(2025, 1, 1, 5, 30, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    key = keys.profile(1).key("tz")
    Cache(backend).get_or_load(key, policies.PROFILE, lambda: india, datetime)
    back = read_back(backend, key, policies.PROFILE, datetime)
    assert back == india and back.utcoffset() is not None


@pytest.mark.integration
@pytest.mark.parametrize("db_kind", ["sqlite", "postgres"])
def test_round_trip_of_real_query_results(
    request: pytest.FixtureRequest,
    redis_backend: RedisBackend,
    count_sql: type[SqlCounter],
    db_kind: str,
) -> None:
    """What the domain really returns (UTC datetimes from SQLite and PostgreSQL) survives."""
    db: Database = request.getfixturevalue("sqlite_db" if db_kind == "sqlite" else "pg_db")
    factory = request.getfixturevalue("sqlite_factory" if db_kind == "sqlite" else "pg_factory")
    ids = seed_small(factory)
    backend = redis_backend
    previous = db.cache
    db.cache = Cache(backend)
    try:
        fresh = {name: read() for name, read in every_screen(db, ids).items()}
        db.cache = Cache(backend)  # a new instance: everything comes back out of Redis
        with count_sql(db) as sql:
            cached = {name: read() for name, read in every_screen(db, ids).items()}
        assert sql.count == 0, sql.statements
    finally:
        db.cache = previous
    for name in fresh:
        assert_same(fresh[name], cached[name], name)
    assert fresh["profile"].joined_at.utcoffset() == timedelta(0)
    assert fresh["feed"].items, "the feed should not be empty"


# ---------------------------------------------------------------------------------------
# 9. Corrupt or foreign values are misses, not errors
# ---------------------------------------------------------------------------------------

FOREIGN_VALUES = [
    b"garbage",
    b"",
    b"\xc1",  # never valid msgpack
    msgspec.msgpack.encode((0, 0, {"id": "not an int"})),  # right envelope, wrong shape
    msgspec.msgpack.encode({"epoch": 0}),
    msgspec.json.encode({"id": 1, "balance": 2}),  # another version's JSON
]


@pytest.mark.parametrize("raw", FOREIGN_VALUES, ids=lambda r: repr(r)[:24])
def test_foreign_value_is_a_miss(backend: Backend, raw: bytes) -> None:
    cache = Cache(backend)
    key = keys.profile(5).key("view")
    profile = UserProfile(5, "eve", "Eve", "E", None, 10, T0)
    backend.write(key.text, raw, 60)
    assert cache.get_or_load(key, policies.PROFILE, lambda: profile, UserProfile) == profile
    stats = cache.stats.policies["profile"]
    assert (stats.misses, stats.loads, stats.errors) == (1, 1, 0)
    # ... and the load replaced the foreign value with a good entry.
    assert read_back(backend, key, policies.PROFILE, UserProfile) == profile


@pytest.mark.integration
@pytest.mark.parametrize("where", ["entry", "generation", "epoch"])
def test_foreign_redis_types_and_counters_do_not_break_reads(
    redis_backend: RedisBackend, redis_client: redis.Redis, where: str
) -> None:
    """A hash where a string belongs, or a non-number in a counter: served from the loader."""
    key = keys.profile(6).key("view")
    target = {"entry": key.text, "generation": key.family.generation_key, "epoch": EPOCH_KEY}
    if where == "entry":
        redis_client.hset(target[where], "field", "value")
    else:
        redis_client.set(target[where], b"not-a-number")
    cache = Cache(redis_backend)
    profile = UserProfile(6, None, "Member", "M", None, 1, T0)
    for _ in range(5):
        assert cache.get_or_load(key, policies.PROFILE, lambda: profile, UserProfile) == profile
    if where == "epoch":
        return  # a foreign epoch retires every entry: nothing may be served, and nothing is
    # The breaker must not treat bad data as a sick Redis: other keys are still cached.
    other = keys.profile(7).key("view")
    cache.get_or_load(other, policies.PROFILE, lambda: profile, UserProfile)
    assert redis_client.exists(other.text), "a foreign value in one key disabled the cache"
