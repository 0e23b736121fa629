"""reports: covering indexes for the results reports (rates, makeup list, consequences)

exam_results (learner_id, round_key, score, unit_id) lets a report fold every learner's results
in one pass over the index, in learner order, without reading the table; it replaces the index
on learner_id alone (its prefix). learners (unit_id, in_service, exempt) counts the base per
unit from the index alone; it replaces the index on unit_id alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_exam_results_learner_round_score_unit',
        'exam_results',
        ['learner_id', 'round_key', 'score', 'unit_id'],
        unique=False,
    )
    op.drop_index('ix_exam_results_learner_id', table_name='exam_results')
    op.create_index(
        'ix_learners_unit_base', 'learners', ['unit_id', 'in_service', 'exempt'], unique=False
    )
    op.drop_index('ix_learners_unit_id', table_name='learners')


def downgrade() -> None:
    op.create_index('ix_learners_unit_id', 'learners', ['unit_id'], unique=False)
    op.drop_index('ix_learners_unit_base', table_name='learners')
    op.create_index('ix_exam_results_learner_id', 'exam_results', ['learner_id'], unique=False)
    op.drop_index('ix_exam_results_learner_round_score_unit', table_name='exam_results')
