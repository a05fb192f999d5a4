"""incident_photos: photos attached to an exception

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 19:00:00

A photo sent to the bot with or right after `异常 …`; the file is kept in `app.photo_dir` under
its SHA-256, the row says whose exception it shows.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('incident_photos',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('incident_id', ID, nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('content_type', sa.String(length=32), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('person_id', ID, nullable=True),
                    sa.Column('source', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['person_id'], ['people.id']),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('incident_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_photos_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_photos_incident_id'))
    op.drop_table('incident_photos')
