"""The policy for tests that need a real service: SKIPPED with how to start it when it is
unreachable, except under CI=true, where it FAILS, so a CI run never passes by skipping
its integration tests.

    require_service("Redis", lambda: redis.Redis.from_url(URL).ping(), "redis-server ...")
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import redis

from miniapp_testing.ci import in_ci
from miniapp_testing.postgres import check_server

ServiceCheck = Callable[[str, Callable[[], object], str], None]

PG_HOW_TO_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
# The shared Redis is only touched through logical DB 15, emptied with FLUSHDB before and
# after each test (never FLUSHALL).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_HOW_TO_START = "redis-server --daemonize yes  (tests use logical DB 15 of 127.0.0.1:6379)"

_service_errors: dict[str, str | None] = {}


def require_service(name: str, check: Callable[[], object], how_to_start: str) -> None:
    """Skip the calling test (fail it under CI=true) when `check()` raises.

    `check` is called once per session and name; its outcome is remembered, so a dead
    service costs one connection timeout, not one per test.
    """
    if name not in _service_errors:
        try:
            check()
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [""])[0]
            _service_errors[name] = f"{type(exc).__name__}: {first_line}"[:300]
        else:
            _service_errors[name] = None
    error = _service_errors[name]
    if error is None:
        return
    message = f"{name} is not reachable ({error}). Start it with: {how_to_start}"
    if in_ci():
        pytest.fail(f"{message}  [CI=true: a missing service fails the run]", pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    require_service("PostgreSQL", check_server, PG_HOW_TO_START)


def require_redis() -> None:
    require_service(
        "Redis",
        lambda: redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping(),
        REDIS_HOW_TO_START,
    )
