"""liaison groups in the database, reminder series, the moment a send was written

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'liaison_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('origin_chat_id', sa.BigInteger(), nullable=False),
        sa.Column('moved_to', sa.BigInteger(), nullable=True),
        sa.Column('retired', sa.Boolean(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('chat_id'),
    )
    with op.batch_alter_table('liaison_groups', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_liaison_groups_origin_chat_id'), ['origin_chat_id'], unique=False
        )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'series',
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default='',
            )
        )
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_at', sa.DateTime(timezone=True), nullable=True))
    # Claims made before this revision were taken before the rate limiter's wait: whether their
    # request was written is unknown, so they count as written (may have been sent), as before.
    op.execute(
        "UPDATE reminder_sends SET written_at = claimed_at WHERE status = 'claimed'"
    )


def downgrade() -> None:
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_column('written_at')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_column('series')
    with op.batch_alter_table('liaison_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liaison_groups_origin_chat_id'))
    op.drop_table('liaison_groups')
