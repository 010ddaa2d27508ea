"""The cache tests' tools: a SQL statement counter, a TCP proxy that can cut one client off
from Redis, and a Cache on Redis that recovers fast."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from sqlalchemy import event

from app.cache.backends import RedisBackend
from app.cache.breaker import CircuitBreaker
from app.cache.readthrough import Cache
from app.domain.db import Database
from miniapp_testing.ports import free_port


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
