"""lifecycle: a report's own handoff, one pending rush per number, rate limits shared by processes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_id', ID, nullable=True))
        batch_op.create_foreign_key('fk_reports_handoff_id_handoffs', 'handoffs', ['handoff_id'], ['id'])
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_change_requests_pending_key', ['pending_key'])
    op.create_table('rate_keys', sa.Column('key', sa.String(length=200), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_table('rate_sends', sa.Column('id', ID, nullable=False),
                    sa.Column('key', sa.String(length=200), nullable=False),
                    sa.Column('sent_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_rate_sends_key_at', 'rate_sends', ['key', 'sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rate_sends_key_at', table_name='rate_sends')
    op.drop_table('rate_sends')
    op.drop_table('rate_keys')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_constraint('uq_change_requests_pending_key', type_='unique')
        batch_op.drop_column('pending_key')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reports_handoff_id_handoffs', type_='foreignkey')
        batch_op.drop_column('handoff_id')
