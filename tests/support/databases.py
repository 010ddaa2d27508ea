"""Test databases: a migrated SQLite file, emptying a PostgreSQL one between tests, and a
fresh PostgreSQL one for a module's app processes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from app.domain import migrate
from app.domain.db import Database
from miniapp_testing.postgres import fresh_database
from tests.support.services import require_postgres


def make_sqlite_db(path: Path) -> Database:
    """A fresh file brought to head by Alembic (about 15 ms)."""
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return Database(url)


def truncate_all(database: Database) -> None:
    """Every table but Alembic's emptied, ids starting at 1 again."""
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


@contextlib.contextmanager
def pg_database(name: str) -> Iterator[str]:
    """A brand-new PostgreSQL database `name` for the body, dropped after it; the test is
    skipped (failed under CI) without PostgreSQL."""
    require_postgres()
    with fresh_database(name) as url:
        yield url
