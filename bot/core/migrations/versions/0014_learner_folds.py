"""learners: each learner's results folded on the learner row, for the city's tally

fold_grade, fold_last and fold_makeup hold what bot.results.aggregates.folded computes from the
learner's results (None: no such result), written by the results importer in the transaction
that changes the results. The city's /results then counts the learners table alone, grouped in
the order of the index learners (unit_id, fold_grade, fold_last, fold_makeup, in_service,
exempt), instead of folding every result and sorting the folded rows.

The backfill folds the results already imported with the campaign's config (the pass mark and
the regular rounds' order make the values): the one the application hands over as the
"campaign_config" attribute, else config.toml as load_config finds it. One UPDATE … FROM built
by bot.results.aggregates.refold: the fold has one definition.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from bot.core.config import load_config
from bot.results.aggregates import fold_rules, refold

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('fold_grade', 'fold_last', 'fold_makeup')


def upgrade() -> None:
    # recreate="never": plain ALTER TABLE (see 0008: copying "learners" would drop it under the
    # foreign keys of the tables that reference it).
    with op.batch_alter_table('learners', schema=None, recreate='never') as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
    learners = sa.table('learners', sa.column('id'), *(sa.column(name) for name in COLUMNS))
    config = context.config.attributes.get('campaign_config') or load_config()
    refold(op.get_bind(), config, learners=learners)
    # The rules these folds were made under: a start with other rules folds again
    # (bot.results.aggregates.ensure_folds).
    folds = op.create_table(
        'result_folds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rules', sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(folds, [{'id': 1, 'rules': fold_rules(config)}])
    op.create_index(
        'ix_learners_unit_fold',
        'learners',
        ['unit_id', *COLUMNS, 'in_service', 'exempt'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table('result_folds')
    op.drop_index('ix_learners_unit_fold', table_name='learners')
    with op.batch_alter_table('learners', schema=None, recreate='never') as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
