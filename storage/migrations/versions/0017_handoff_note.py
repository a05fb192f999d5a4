"""a handoff carries the note its lead wrote

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 17:30:00

`交接 SO-1001 30 备注 外观已检` (or `30 急用`): what the sending lead says of the batch reaches the
receiving workshop with its card and notice. A handoff made when a step completes has none.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs') as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs') as batch_op:
        batch_op.drop_column('note')
