"""a day's reports are read from an index that carries what the read needs

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 05:20:00

The board's summary and the digests add up the standing reports stamped in a window, per
workshop. By the created-at index each report was then read from the table (undone or not, its
step, its counts). The new index carries those columns, so the table is not visited; it replaces
the created-at index, which it serves as well (it starts with the same column).
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_reports_day', 'reports', ['created_at', 'undone_at', 'step_id', 'good', 'scrap'])
    op.drop_index('ix_reports_created_at', table_name='reports')


def downgrade() -> None:
    op.create_index('ix_reports_created_at', 'reports', ['created_at'])
    op.drop_index('ix_reports_day', table_name='reports')
