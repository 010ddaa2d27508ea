"""Shared fixtures: migrated SQLite and PostgreSQL databases and a factory of test data.
The helpers behind them are in tests/support/; the e2e kit's fixtures (the app server,
Chromium, the emulated Telegram client) come from miniapp_testing.plugin.

Service policy (tests/support/services.py): a test that needs PostgreSQL or Redis is
SKIPPED with a message saying how to start the service when it is unreachable, except under
CI=true, where it FAILS. Reuse it for another service through `require_service` or the
`needs_service` fixture:

    def test_cache(needs_service):
        needs_service("Redis", lambda: redis.Redis.from_url(URL).ping(), "redis-server ...")

Databases: `sqlite_db` (a fresh migrated file per test), `pg_db` (one database per session,
created through TEST_PG_ADMIN_URL, migrated from empty by Alembic, truncated before each
test, dropped at the end) and `db`, parametrized over both. `factory` builds test data.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before the import: the helpers' asserts then report their values as a test's do.
pytest.register_assert_rewrite("tests.support")

from app.domain import migrate  # noqa: E402
from app.domain.db import Database  # noqa: E402
from miniapp_testing.postgres import create_database, drop_database  # noqa: E402
from tests.support.databases import make_sqlite_db, truncate_all  # noqa: E402
from tests.support.factory import Factory  # noqa: E402
from tests.support.services import ServiceCheck, require_postgres, require_service  # noqa: E402

# The e2e kit: the app server, Chromium and the emulated Telegram client.
pytest_plugins = ["miniapp_testing.plugin"]

_pg_names = itertools.count(1)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database (no schema), dropped after the test."""
    require_postgres()
    name = f"miniapp_test_{os.getpid()}_empty_{next(_pg_names)}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def pg_session_db() -> Iterator[Database]:
    """The session's PostgreSQL database, brought from empty to head by Alembic."""
    require_postgres()
    name = f"miniapp_test_{os.getpid()}"
    url = create_database(name)
    try:
        migrate.upgrade(url)
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()
    finally:
        drop_database(name)


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Database:
    """The session's PostgreSQL database, emptied (TRUNCATE ... RESTART IDENTITY)."""
    require_postgres()
    database: Database = request.getfixturevalue("pg_session_db")
    truncate_all(database)
    return database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = make_sqlite_db(tmp_path / "test.db")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db(request: pytest.FixtureRequest) -> Database:
    """Every domain test that takes `db` runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def factory(db: Database) -> Factory:
    """A factory on the parametrized `db` (SQLite and PostgreSQL)."""
    return Factory(db)


@pytest.fixture
def pg_factory(pg_db: Database) -> Factory:
    return Factory(pg_db)


@pytest.fixture
def sqlite_factory(sqlite_db: Database) -> Factory:
    return Factory(sqlite_db)


@pytest.fixture
def needs_service() -> ServiceCheck:
    """`require_service` for tests that prefer a fixture to an import."""
    return require_service
