"""seat proposals: a centralized-exam booking confirmed through a server-side proposal

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'seat_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('admin_id', sa.Integer(), nullable=False),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('parts', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['admin_id'], ['administrators.id'], ),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('seat_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_proposals_admin_id'), ['admin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_proposals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_proposals_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seat_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_proposals_unit_id'))
        batch_op.drop_index(batch_op.f('ix_seat_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_seat_proposals_admin_id'))
    op.drop_table('seat_proposals')
