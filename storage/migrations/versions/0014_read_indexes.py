"""read indexes: orders by urgency (the board, the queues), steps by completion (the digests), a
workshop's steps with what the board's summary counts

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 02:40:00

The board lists open orders most urgent first (priority, due date, number) and stops at 60; the
digests ask which steps completed on a factory day. Both read the whole table without these. The
board's summary counts every open step per workshop by state, lateness and risk: the workshop
and status index now carries those columns, so the count never reads the table.
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orders_urgency', 'orders', ['priority', 'due_date', 'order_no'])
    op.create_index(op.f('ix_steps_completed_at'), 'steps', ['completed_at'])
    op.drop_index('ix_steps_workshop_status', table_name='steps')
    op.create_index('ix_steps_workshop_queue', 'steps',
                    ['workshop_id', 'status', 'planned_end', 'late_minutes', 'order_id'])


def downgrade() -> None:
    op.drop_index('ix_steps_workshop_queue', table_name='steps')
    op.create_index('ix_steps_workshop_status', 'steps', ['workshop_id', 'status'])
    op.drop_index(op.f('ix_steps_completed_at'), table_name='steps')
    op.drop_index('ix_orders_urgency', table_name='orders')
