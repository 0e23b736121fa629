"""registration drafts: the /register conversation's state in the database, one per owner

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'registration_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('round_key', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('exam_date', sa.Date(), nullable=True),
        sa.Column('session_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column('learners', sa.Text(), nullable=True),
        sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('telegram_user_id', 'chat_id', name='uq_draft_owner'),
    )


def downgrade() -> None:
    op.drop_table('registration_drafts')
