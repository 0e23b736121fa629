"""platform tasks (the outbox of actions for the platform)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'platform_tasks',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('unit_code', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.String(length=4000), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('requester_name', sa.String(length=128), nullable=False),
        sa.Column('requester_telegram_id', sa.BigInteger(), nullable=True),
        sa.Column('requester_chat_id', sa.BigInteger(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result', sa.String(length=500), nullable=False),
        sa.Column('finished_by', sa.String(length=128), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['requested_by'], ['administrators.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('platform_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_platform_tasks_kind', ['kind'], unique=False)
        batch_op.create_index('ix_platform_tasks_account', ['account'], unique=False)
        batch_op.create_index('ix_platform_tasks_status', ['status'], unique=False)
        batch_op.create_index('ix_platform_tasks_requested_by', ['requested_by'], unique=False)


def downgrade() -> None:
    op.drop_table('platform_tasks')
