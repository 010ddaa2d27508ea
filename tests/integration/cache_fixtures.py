"""Shared pieces of the cache tests: Redis DB 15, backends, a private redis-server, a TCP
proxy that can cut one client off, and a SQL statement counter.

Isolation: the shared Redis on 6379 is only touched through logical DB 15, which is emptied
with FLUSHDB before and after each test (never FLUSHALL). Outage tests start their own
redis-server on a free port and kill that one.

A test module loads this file with `pytest_plugins = ["cache_fixtures"]` and reaches every
helper through a fixture (importing it as well would defeat pytest's assert rewriting);
type names come from it under TYPE_CHECKING only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event

from app.cache.backends import Backend, MemoryBackend, RedisBackend
from app.cache.breaker import CircuitBreaker
from app.cache.readthrough import Cache
from app.domain.db import Database

if TYPE_CHECKING:
    from conftest import Factory

ServiceCheck = Callable[[str, Callable[[], object], str], None]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_HOW_TO_START = "redis-server --daemonize yes  (tests use logical DB 15 of 127.0.0.1:6379)"


def require_redis(require_service: ServiceCheck) -> None:
    """Skip (fail under CI=true) when the shared Redis does not answer."""
    require_service(
        "Redis",
        lambda: redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping(),
        REDIS_HOW_TO_START,
    )


@pytest.fixture
def redis_client(needs_service: ServiceCheck) -> Iterator[redis.Redis]:
    """A client on the test DB (15), emptied before and after the test."""
    require_redis(needs_service)
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


# ---------------------------------------------------------------------------------------
# Counting SQL statements.
# ---------------------------------------------------------------------------------------


class SqlCounter:
    """Counts statements sent to the database (SQLAlchemy before_cursor_execute)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def _on_execute(self, *args: Any) -> None:
        with self._lock:
            self.statements.append(str(args[2]))

    def __enter__(self) -> SqlCounter:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.statements)

    def reset(self) -> None:
        with self._lock:
            self.statements.clear()


@pytest.fixture
def count_sql() -> type[SqlCounter]:
    """`with count_sql(db) as sql: ...; sql.count` counts the statements sent meanwhile."""
    return SqlCounter


# ---------------------------------------------------------------------------------------
# A private redis-server for outage tests, and a proxy that can cut one client off.
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or check}")


class PrivateRedis:
    """A redis-server of this test alone: started, SIGKILLed, paused and restarted."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        # No retries: redis-py's default retries a refused connection with a backoff.
        client = redis.Redis(
            port=self.port,
            socket_connect_timeout=0.2,
            socket_timeout=0.2,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ping, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """kill -9: the data is gone, the port refuses connections."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def pause(self) -> None:
        """SIGSTOP: the port accepts connections but nothing answers (a hung Redis)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.resume()
            self.kill()


@pytest.fixture
def private_redis(needs_service: ServiceCheck) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        needs_service(
            "redis-server binary",
            lambda: (_ for _ in ()).throw(FileNotFoundError("redis-server not on PATH")),
            "apt-get install redis-server",
        )
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """Forwards a local port to Redis; `cut()` drops every connection and refuses new ones,
    as a network partition between one app instance and Redis would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not, and
            # the kernel would go on accepting connections.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def redis_cache(url: str, *, cooldown_s: float = 0.3, timeout_s: float = 0.25) -> Cache:
    """A Cache on Redis with a short breaker cooldown, so recovery tests stay fast."""
    return Cache(
        RedisBackend(url, timeout_s=timeout_s),
        breaker=CircuitBreaker(threshold=3, cooldown_s=cooldown_s),
    )


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
