"""Shared fixtures: migrated SQLite and PostgreSQL databases, a factory of test data,
and the policy for tests that need a real service.

Service policy (`require_service`): a test that needs PostgreSQL or Redis is SKIPPED with
a message saying how to start the service when it is unreachable, except under CI=true,
where it FAILS, so a CI run never passes by skipping its integration tests. Reuse it for
another service through the `needs_service` fixture (or by calling `require_service`):

    def test_cache(needs_service):
        needs_service("Redis", lambda: redis.Redis.from_url(URL).ping(), "redis-server ...")

Databases: `sqlite_db` (a fresh migrated file per test), `pg_db` (one database per session,
created through TEST_PG_ADMIN_URL, migrated from empty by Alembic, truncated before each
test, dropped at the end) and `db`, parametrized over both. `factory` builds test data.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from app.domain import migrate
from app.domain.db import Database, normalize_url
from app.domain.ledger import books, books_balanced
from app.domain.models import Banner, MarketItem, Transaction, TxKind, User, utcnow
from app.domain.users import upsert_user
from app.domain.views import UserProfile
from miniapp_testing.plugin import in_ci

# The e2e kit: the app server, Chromium and the emulated Telegram client.
pytest_plugins = ["miniapp_testing.plugin"]

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOW_TO_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

# ---------------------------------------------------------------------------------------
# Service availability policy, shared by every test that needs a real service.
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# PostgreSQL: one database per session, created and dropped through an admin URL.
# ---------------------------------------------------------------------------------------


def _pg_admin_engine() -> Engine:
    return create_engine(
        normalize_url(PG_ADMIN_URL),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


def check_postgres() -> None:
    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def require_postgres() -> None:
    require_service("PostgreSQL", check_postgres, PG_HOW_TO_START)


def create_pg_database(name: str) -> str:
    """Create an empty database `name` (dropping a leftover one) and return its URL."""
    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    url = make_url(normalize_url(PG_ADMIN_URL)).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_pg_database(name: str) -> None:
    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


_pg_names = itertools.count(1)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database (no schema), dropped after the test."""
    require_postgres()
    name = f"miniapp_test_{os.getpid()}_empty_{next(_pg_names)}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def pg_session_db() -> Iterator[Database]:
    """The session's PostgreSQL database, brought from empty to head by Alembic."""
    require_postgres()
    name = f"miniapp_test_{os.getpid()}"
    url = create_pg_database(name)
    try:
        migrate.upgrade(url)
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()
    finally:
        drop_pg_database(name)


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Database:
    """The session's PostgreSQL database, emptied (TRUNCATE ... RESTART IDENTITY)."""
    require_postgres()
    database: Database = request.getfixturevalue("pg_session_db")
    with database.engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return database


# ---------------------------------------------------------------------------------------
# SQLite: a fresh file per test (migrating one costs ~15 ms).
# ---------------------------------------------------------------------------------------


def make_sqlite_db(path: Path) -> Database:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return Database(url)


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


# ---------------------------------------------------------------------------------------
# Test data.
# ---------------------------------------------------------------------------------------

# Above 2**32 on purpose: Telegram ids need BIGINT columns.
FIRST_TEST_ID = 7_000_000_001


def new_key(prefix: str = "test") -> str:
    """A fresh idempotency key, as a client would make one per button press."""
    return f"{prefix}-{uuid.uuid4().hex}"


class Factory:
    """Members (through upsert_user, so they get the welcome bonus), items and banners.

    Balances other than the welcome bonus are booked as transactions (a reward to add,
    a purchase without an item to take away), so the books stay balanced.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids = itertools.count(FIRST_TEST_ID)
        self._n = itertools.count(1)

    def member(
        self,
        username: str | None = "",
        *,
        balance: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        user_id: int | None = None,
        now: datetime | None = None,
    ) -> UserProfile:
        uid = user_id if user_id is not None else next(self._ids)
        if username == "":
            username = f"member_{uid}"
        profile = upsert_user(
            self.db,
            {"id": uid, "username": username, "first_name": first_name, "last_name": last_name},
            now=now,
        )
        if balance is not None and balance != profile.balance:
            self.adjust(uid, balance - profile.balance, now=now)
            profile = _replace_balance(profile, balance)
        return profile

    def adjust(self, user_id: int, delta: int, *, now: datetime | None = None) -> None:
        """Book `delta` points for a member: a reward if positive, a debit if negative."""
        if delta == 0:
            return
        with self.db.write() as s:
            s.execute(
                update(User.__table__)
                .where(User.__table__.c.id == user_id)
                .values(balance=User.__table__.c.balance + delta)
            )
            s.execute(
                Transaction.__table__.insert().values(
                    kind=(TxKind.REWARD if delta > 0 else TxKind.PURCHASE).value,
                    amount=abs(delta),
                    actor_id=user_id,
                    to_user_id=user_id if delta > 0 else None,
                    from_user_id=None if delta > 0 else user_id,
                    note="test adjustment",
                    idempotency_key=new_key("adjust"),
                    created_at=now or utcnow(),
                )
            )

    def key(self, prefix: str = "test") -> str:
        return new_key(prefix)

    def assert_books(self) -> dict[str, int]:
        """The ledger invariant: balances + spending == rewards, nothing negative."""
        report = books(self.db)
        assert books_balanced(report), f"books do not balance: {report}"
        return report

    def members(self, count: int, *, balance: int | None = None) -> list[UserProfile]:
        return [self.member(balance=balance) for _ in range(count)]

    def item(
        self,
        *,
        price: int = 10,
        stock: int = 5,
        active: bool = True,
        title: str | None = None,
    ) -> int:
        with self.db.write() as s:
            return int(
                s.execute(
                    MarketItem.__table__.insert()
                    .values(
                        title=title or f"Item {next(self._n)}",
                        description="A test item",
                        price=price,
                        stock=stock,
                        image="/demo/test.svg",
                        active=active,
                        created_at=utcnow(),
                    )
                    .returning(MarketItem.__table__.c.id)
                ).scalar_one()
            )

    def banner(
        self,
        title: str,
        *,
        priority: int = 0,
        active: bool = True,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> int:
        with self.db.write() as s:
            return int(
                s.execute(
                    Banner.__table__.insert()
                    .values(
                        title=title,
                        subtitle="",
                        image="",
                        link="",
                        priority=priority,
                        active=active,
                        starts_at=starts_at,
                        ends_at=ends_at,
                    )
                    .returning(Banner.__table__.c.id)
                ).scalar_one()
            )

    def stock(self, item_id: int) -> int:
        with self.db.read() as s:
            return int(
                s.execute(
                    text("SELECT stock FROM market_items WHERE id = :id"), {"id": item_id}
                ).scalar_one()
            )

    def balance(self, user_id: int) -> int:
        with self.db.read() as s:
            return int(
                s.execute(
                    text("SELECT balance FROM users WHERE id = :id"), {"id": user_id}
                ).scalar_one()
            )

    def count(self, table: str, where: str = "1 = 1", **params: Any) -> int:
        with self.db.read() as s:
            return int(
                s.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()
            )


def _replace_balance(profile: UserProfile, balance: int) -> UserProfile:
    return replace(profile, balance=balance)


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
def needs_service() -> Callable[[str, Callable[[], object], str], None]:
    """`require_service` for tests that prefer a fixture to an import."""
    return require_service
