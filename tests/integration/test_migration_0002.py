"""Migration 0002 makes usernames unique even on a database that already repeats one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from app.domain.migrate import upgrade


def test_duplicate_usernames_are_resolved_before_the_unique_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = create_engine(url)
    now = datetime.now(UTC).isoformat(" ")
    with engine.begin() as conn:
        for uid in (7, 3, 9):
            conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, first_name, is_premium,"
                    " balance, joined_at, last_seen_at)"
                    " VALUES (:id, 'Sam', 'sam', 'Sam', 0, 0, :now, :now)"
                ),
                {"id": uid, "now": now},
            )
    upgrade(url)
    with engine.connect() as conn:
        holders = conn.execute(text("SELECT id FROM users WHERE username_key = 'sam'")).all()
        others = conn.execute(text("SELECT count(*) FROM users WHERE username IS NULL")).scalar()
    engine.dispose()
    assert [row.id for row in holders] == [3]
    assert others == 2
