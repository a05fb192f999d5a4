"""report_shares, team_members, piece_rates: who did the work and what a piece pays

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 19:00:00

A report may name its workers and their shares (or take the lead's team of the shift); each
share is stored with the report. Piece rates per product and step, from the configuration.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('report_shares',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('report_id', ID, nullable=False),
                    sa.Column('person_id', ID, nullable=False),
                    sa.Column('good', sa.Integer(), nullable=False),
                    sa.Column('scrap', sa.Integer(), nullable=False),
                    sa.Column('basis', sa.String(length=8), nullable=False),
                    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['person_id'], ['people.id']),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('report_id', 'person_id'))
    with op.batch_alter_table('report_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_shares_report_id'), ['report_id'], unique=False)
    op.create_table('team_members',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('lead_id', ID, nullable=False),
                    sa.Column('person_id', ID, nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('set_at', sa.DateTime(), nullable=False),
                    sa.Column('expires_at', sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['lead_id'], ['people.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('lead_id', 'person_id'))
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_lead_id'), ['lead_id'], unique=False)
    op.create_table('piece_rates',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('product', sa.String(length=120), nullable=False),
                    sa.Column('workshop_id', ID, nullable=False),
                    sa.Column('rate', sa.Numeric(12, 4), nullable=False),
                    sa.Column('valid_from', sa.Date(), nullable=False),
                    sa.Column('source', sa.String(length=40), nullable=False),
                    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('product', 'workshop_id', 'valid_from'))


def downgrade() -> None:
    op.drop_table('piece_rates')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_lead_id'))
    op.drop_table('team_members')
    with op.batch_alter_table('report_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_shares_report_id'))
    op.drop_table('report_shares')
