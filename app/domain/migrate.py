"""Bring a database to the current schema: `python -m app.domain.migrate [--url URL]`.

Alembic is configured in code (no alembic.ini) so the same call serves `make run`,
the tests and operators. New revision: `python -m app.domain.migrate revision -m "what"`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.domain.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def main() -> None:
    from app.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", nargs="?", default="upgrade", choices=["upgrade", "revision"])
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.add_argument("-m", "--message", default="schema change")
    args = parser.parse_args()
    url = args.url or get_settings().database_url
    if args.action == "revision":
        command.revision(alembic_config(url), message=args.message, autogenerate=True)
    else:
        upgrade(url)


if __name__ == "__main__":
    main()
