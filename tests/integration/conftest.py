"""The cache tests' fixtures: Redis DB 15 (FLUSHDB'd around each test, never FLUSHALL),
both backends, a private redis-server for outage tests (never the shared one on 6379), TCP
proxies to cut a client off, and a SQL statement counter. The tools behind them are in
tests/support/cache.py and miniapp_testing.redis_server.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
import redis

from app.cache.backends import Backend, MemoryBackend, RedisBackend
from app.cache.readthrough import Cache
from app.domain.db import Database
from miniapp_testing.redis_server import PrivateRedis
from tests.support.cache import SqlCounter, TcpProxy, redis_cache
from tests.support.factory import Factory
from tests.support.services import REDIS_URL, require_redis, require_service


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A client on the test DB (15), emptied before and after the test."""
    require_redis()
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Both backends: the in-process one and Redis DB 15 (FLUSHDB'd around the test)."""
    if request.param == "memory":
        return MemoryBackend()
    request.getfixturevalue("redis_client")
    return RedisBackend(REDIS_URL)


@pytest.fixture
def redis_url(redis_client: redis.Redis) -> str:
    """The URL of the test DB, emptied around the test."""
    return REDIS_URL


@pytest.fixture
def redis_backend(redis_client: redis.Redis) -> RedisBackend:
    return RedisBackend(REDIS_URL)


@pytest.fixture
def cached_db(sqlite_db: Database, backend: Backend) -> Database:
    """The test's migrated SQLite database, its reads going through a Cache on `backend`."""
    sqlite_db.cache = Cache(backend)
    return sqlite_db


@pytest.fixture
def cached_factory(cached_db: Database, sqlite_factory: Factory) -> Factory:
    """The shared test-data factory, writing through `cached_db` (so writes invalidate)."""
    return sqlite_factory


@pytest.fixture
def count_sql() -> type[SqlCounter]:
    """`with count_sql(db) as sql: ...; sql.count` counts the statements sent meanwhile."""
    return SqlCounter


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test alone: started, SIGKILLed, paused and restarted."""
    if shutil.which("redis-server") is None:
        require_service(
            "redis-server binary",
            lambda: (_ for _ in ()).throw(FileNotFoundError("redis-server not on PATH")),
            "apt-get install redis-server",
        )
    server = PrivateRedis()
    server.start(timeout_s=5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_redis_cache() -> Callable[..., Cache]:
    return redis_cache


@pytest.fixture
def tcp_proxy() -> Iterator[Callable[[int], TcpProxy]]:
    """Start proxies to a Redis port; all are cut at the end of the test."""
    proxies: list[TcpProxy] = []

    def start(target_port: int) -> TcpProxy:
        proxy = TcpProxy(target_port)
        proxy.start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.cut()
