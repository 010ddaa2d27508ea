"""Alembic brings an empty database to the current schema, back to nothing, and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, inspect
from sqlmodel import SQLModel

import app.domain.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.domain.db import Database, make_engine
from app.domain.migrate import downgrade, upgrade
from app.domain.transfers import transfer
from tests.support.factory import Factory

TABLES = {"users", "transactions", "market_items", "purchases", "banners"}
INDEXES = {
    "users": {"ix_users_balance_id", "ix_users_username_key"},
    "transactions": {
        "ix_transactions_created_id",
        "ix_transactions_from_created",
        "ix_transactions_to_created",
    },
    "market_items": {"ix_market_items_active_price"},
    "purchases": {"ix_purchases_user_created"},
    "banners": {"ix_banners_active_priority"},
}
CHECKS = {
    "users": {"ck_users_balance_nonnegative"},
    "transactions": {"ck_transactions_amount_positive", "ck_transactions_kind"},
    "market_items": {"ck_market_items_price_positive", "ck_market_items_stock_nonnegative"},
}


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.integration), "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("empty_pg_url")
    return f"sqlite:///{tmp_path / 'empty.db'}"


def app_tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def assert_schema_is_current(url: str) -> None:
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        assert set(insp.get_table_names()) == TABLES | {"alembic_version"}
        for table, expected in INDEXES.items():
            names = {ix["name"] for ix in insp.get_indexes(table)}
            assert expected <= names, f"{table}: missing {expected - names}"
        uniques = {u["name"] for u in insp.get_unique_constraints("transactions")}
        assert "uq_transactions_actor_key" in uniques
        for table, expected in CHECKS.items():
            names = {c["name"] for c in insp.get_check_constraints(table)}
            assert expected <= names, f"{table}: missing {expected - names}"
        if engine.dialect.name == "postgresql":
            # Telegram ids and amounts exceed 32 bits.
            columns = {
                (table, c["name"]): c["type"]
                for table in ("users", "transactions", "purchases")
                for c in insp.get_columns(table)
            }
            for key in [
                ("users", "id"),
                ("users", "balance"),
                ("transactions", "id"),
                ("transactions", "actor_id"),
                ("transactions", "amount"),
                ("purchases", "user_id"),
            ]:
                assert isinstance(columns[key], BigInteger), f"{key} is {columns[key]}"
        # The migrations and the models describe the same schema.
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert app_tables(empty_url) == set()

    upgrade(empty_url)
    assert_schema_is_current(empty_url)
    upgrade(empty_url)  # at head already: nothing to do, nothing breaks
    assert_schema_is_current(empty_url)

    downgrade(empty_url, "base")
    assert app_tables(empty_url) == set()

    upgrade(empty_url)
    assert_schema_is_current(empty_url)

    # The re-created schema takes writes that obey its rules.
    db = Database(empty_url)
    try:
        make = Factory(db)
        alice = make.member("alice")
        make.member("bob")
        result = transfer(db, alice.id, "bob", 40, None, "migration-check-1")
        assert result.balance == 60
    finally:
        db.dispose()
