"""open-work indexes: handoffs by status (the pending ones), exceptions by closure (the open ones),
orders by status (the cancelled ones), steps by their planned window

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 05:40:00

The digests, the board and the reminders ask for the handoffs still pending and the exceptions
still open: a small part of tables that only grow. Without an index the query planner had to
start from a workshop's every step (SQLite, with no statistics for an empty table, did so at
~15 ms a digest) or read the whole table.

The plan's quantity on a day (the digests, the board's summary, the chart, the exports) asks for the
steps whose planned window overlaps it. By planned start that is every step ever planned before it,
a history that only grows; by planned end it is the plan still to come. The index carries what the
question reads, so it never reads the table; the planned-start index had no other reader.
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_handoffs_pending', 'handoffs', ['status', 'to_step_id'])
    op.create_index('ix_incidents_open', 'incidents', ['closed_at', 'step_id'])
    op.create_index('ix_orders_status', 'orders', ['status'])
    op.drop_index('ix_steps_planned_start', table_name='steps')
    op.create_index('ix_steps_plan_window', 'steps',
                    ['planned_end', 'planned_start', 'workshop_id', 'planned_qty', 'order_id'])


def downgrade() -> None:
    op.drop_index('ix_steps_plan_window', table_name='steps')
    op.create_index('ix_steps_planned_start', 'steps', ['planned_start'])
    op.drop_index('ix_orders_status', table_name='orders')
    op.drop_index('ix_incidents_open', table_name='incidents')
    op.drop_index('ix_handoffs_pending', table_name='handoffs')
