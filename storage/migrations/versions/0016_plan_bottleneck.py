"""the whole plan keeps its bottleneck

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 06:00:00

The digest's bottleneck (the workshop whose queue adds the most lateness) is a property of the plan.
It was counted again from every open step at each digest run (a window over all of them: 60 ms at
10,000 orders, 300 ms at 50,000); the whole plan has those numbers in hand and keeps the answer.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_runs') as batch_op:
        batch_op.add_column(sa.Column('bottleneck', sa.JSON(), nullable=True))
    # the plan stored before has no bottleneck: the next job makes the whole plan again at once
    op.execute("DELETE FROM plan_runs WHERE name = 'forecast'")


def downgrade() -> None:
    with op.batch_alter_table('plan_runs') as batch_op:
        batch_op.drop_column('bottleneck')
