"""learners hold no passwords: drop password_hash and must_change_password

The platform (如法网) is the system of record for learners' accounts: a reset is a platform
task, and the bot never stores a password or its hash.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # recreate="never": plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL). Copying the
    # table instead would drop "learners" under the foreign keys of pending actions,
    # registrations, exemptions and results, which SQLite refuses while foreign keys are on.
    with op.batch_alter_table("learners", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("password_hash")


def downgrade() -> None:
    with op.batch_alter_table("learners", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
