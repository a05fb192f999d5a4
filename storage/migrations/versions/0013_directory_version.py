"""directory_version: one counter that every change to people, groups and workshops raises

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 19:00:00

Each web worker keeps the people and groups it has looked up; it compares this counter (one
small read per message) to know when another process changed the directory.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('directory_version',
                            sa.Column('id', sa.Integer(), nullable=False),
                            sa.Column('version', sa.BigInteger(), nullable=False),
                            sa.PrimaryKeyConstraint('id'))
    op.bulk_insert(table, [{'id': 1, 'version': 1}])


def downgrade() -> None:
    op.drop_table('directory_version')
