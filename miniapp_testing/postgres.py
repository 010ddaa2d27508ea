"""Brand-new PostgreSQL databases for one test run or bench, made and dropped through an
admin URL (TEST_PG_ADMIN_URL, default the local server's `postgres` database)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def engine_url(url: str) -> URL:
    """`url` with psycopg 3 as its driver when it names none and psycopg is installed
    (SQLAlchemy's default for postgresql:// is psycopg2)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        with contextlib.suppress(ImportError):
            import psycopg  # noqa: F401

            parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def admin_engine(admin_url: str = PG_ADMIN_URL) -> Engine:
    return create_engine(
        engine_url(admin_url),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


def check_server(admin_url: str = PG_ADMIN_URL) -> None:
    """Raises when the server does not answer (within 3 s)."""
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def create_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """An empty database `name` (a leftover one of that name dropped first); its URL, on
    the admin URL's server and with its credentials."""
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(name: str, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """`with fresh_database("x") as url:` an empty database for the body, dropped after."""
    url = create_database(name, admin_url)
    try:
        yield url
    finally:
        drop_database(name, admin_url)
