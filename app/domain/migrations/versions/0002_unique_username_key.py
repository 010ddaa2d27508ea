"""usernames are unique (case-insensitively, through username_key)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database from before may hold one username twice: the older account keeps it (the
    # next Telegram visit of the other one sets its current username again).
    op.execute(
        "UPDATE users SET username = NULL, username_key = NULL "
        "WHERE username_key IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM users WHERE username_key IS NOT NULL GROUP BY username_key)"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_username_key")
        batch_op.create_index("ix_users_username_key", ["username_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_username_key")
        batch_op.create_index("ix_users_username_key", ["username_key"], unique=False)
