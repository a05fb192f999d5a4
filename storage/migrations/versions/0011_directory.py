"""directory: people who left (active), their directory match key, route steps' setup time

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 19:00:00

Directory sync (`linerelay sync-directory`) deactivates people who left instead of deleting
them (their reports and events keep pointing at them) and matches one person across WeCom and
DingTalk by `directory_key`. The routings import carries an optional setup time per step.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('directory_key', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_people_directory_key'), ['directory_key'], unique=False)
    with op.batch_alter_table('route_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('setup_minutes', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('route_steps', schema=None) as batch_op:
        batch_op.drop_column('setup_minutes')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_directory_key'))
        batch_op.drop_column('directory_key')
        batch_op.drop_column('active')
