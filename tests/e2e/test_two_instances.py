"""Two app processes, one Redis, one PostgreSQL: how the app scales past one machine."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
from sqlalchemy import text

from app.domain.db import Database
from app.domain.migrate import upgrade
from app.domain.seed import seed
from miniapp_testing.ci import missing
from miniapp_testing.server import TEST_BOT_TOKEN as BOT_TOKEN
from miniapp_testing.server import AppDidNotStart, AppServer
from miniapp_testing.telegram import sign_init_data
from tests.support.databases import pg_database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with pg_database(f"miniapp_two_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[list[str]]:
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc}")
    url = pg_url
    upgrade(url)
    seed(Database(url), users=50, transactions=300, quiet=True)
    logs = tmp_path_factory.mktemp("two")
    servers = [
        AppServer(
            logs / name,
            database_url=url,
            redis_url=REDIS_URL,
            backend_only=True,
            extra_env={"GRANIAN_WORKERS": "2"},
        )
        for name in ("a", "b")
    ]
    try:
        for server in servers:
            try:
                server.start(timeout_s=180)
            except AppDidNotStart as exc:
                pytest.fail(str(exc))
        # 127.0.0.1, not localhost: the REST calls here need no browser origin.
        yield [f"http://127.0.0.1:{server.port}" for server in servers]
    finally:
        for server in servers:
            server.stop()


def _top_up(url: str, user_id: int) -> None:
    """A reward booked as the app books them (keeps the ledger balanced)."""
    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET balance = balance + 100 WHERE id = :id"), {"id": user_id}
        )
        conn.execute(
            text(
                "INSERT INTO transactions (kind, amount, actor_id, to_user_id, note, created_at)"
                " VALUES ('reward', 100, :id, :id, 'top-up', now())"
            ),
            {"id": user_id},
        )
    database.dispose()


def _auth(user_id: int, name: str) -> dict[str, str]:
    init_data = sign_init_data({"id": user_id, "first_name": name}, BOT_TOKEN)
    return {"Authorization": f"tma {init_data}"}


def test_health_reports_redis_on_both(two_instances: list[str]) -> None:
    for base in two_instances:
        body = httpx.get(f"{base}/health", timeout=5).json()
        assert body["redis"] == {**body["redis"], "ok": True, "configured": True}
        assert body["database"]["backend"] == "postgresql"


def test_value_written_through_one_is_read_through_the_other(two_instances: list[str]) -> None:
    a, b = two_instances
    alice = _auth(1000001, "Alice")
    value = f"market-{uuid.uuid4().hex[:8]}"
    assert httpx.put(f"{a}/cache/screen", json={"value": value}, headers=alice).status_code == 204
    got = httpx.get(f"{b}/cache/screen", headers=alice, timeout=5)
    assert got.json() == {"key": "screen", "value": value}
    # Another member sees none of it, through either instance.
    bob = _auth(1000002, "Bob")
    assert httpx.get(f"{b}/cache/screen", headers=bob, timeout=5).status_code == 404
    assert httpx.delete(f"{a}/cache/", headers=bob, timeout=5).status_code == 204
    assert httpx.get(f"{a}/cache/screen", headers=alice, timeout=5).json()["value"] == value


def test_write_through_one_invalidates_the_cache_for_both(
    two_instances: list[str], pg_url: str
) -> None:
    a, b = two_instances
    # Carol sends to bob; with the small seed she may be short, so top her up first.
    alice, bob = _auth(1000003, "Carol"), _auth(1000002, "Bob")
    httpx.get(f"{a}/me", headers=alice, timeout=5)
    _top_up(pg_url, 1000003)
    # Warm the feed cache through both instances.
    before_a = httpx.get(f"{a}/api/feed", headers=bob, timeout=5).json()
    before_b = httpx.get(f"{b}/api/feed", headers=bob, timeout=5).json()
    assert before_a["items"][0]["id"] == before_b["items"][0]["id"]
    sent = httpx.post(
        f"{a}/api/transfers",
        json={
            "to": "@bob",
            "amount": 7,
            "note": "two instances",
            "idempotency_key": uuid.uuid4().hex,
        },
        headers=alice,
        timeout=5,
    )
    assert sent.status_code == 200, sent.text
    transaction_id = sent.json()["transaction_id"]
    # Well within the feed's 30 s TTL: only the invalidation can make this fresh.
    for base in (b, a):
        newest = httpx.get(f"{base}/api/feed", headers=bob, timeout=5).json()["items"][0]
        assert newest["id"] == transaction_id
        assert newest["note"] == "two instances"


def test_domain_errors_are_clear_over_rest(two_instances: list[str]) -> None:
    a, _ = two_instances
    alice = _auth(1000001, "Alice")
    response = httpx.post(
        f"{a}/api/transfers",
        json={"to": "@bob", "amount": -5, "idempotency_key": uuid.uuid4().hex},
        headers=alice,
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
