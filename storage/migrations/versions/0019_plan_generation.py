"""whole plans are counted, so a plan stored in batches knows when a newer one overtook it

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 06:00:00

The jobs process stores its whole plan a batch of orders at a time. If a command made and stored
a whole plan of its own meanwhile (a new order, a priority, the calendar), the rest of the jobs'
older plan must not be written over it: each batch checks the count it read with its snapshot.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_runs') as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('plan_runs') as batch_op:
        batch_op.drop_column('generation')
