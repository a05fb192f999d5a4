"""questions: the one question the bot last asked a person in a chat

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00

A confirmation (`是` applies the reading), a missing quantity, the real quantity after 数量不符:
stored in the database so that the answer is understood by any web worker and after a restart.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('questions',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('person_id', ID, nullable=False),
                    sa.Column('chat', sa.String(length=200), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('command', sa.String(length=1000), nullable=False),
                    sa.Column('reading', sa.String(length=500), nullable=False),
                    sa.Column('source', sa.String(length=200), nullable=False),
                    sa.Column('asked_at', sa.DateTime(), nullable=False),
                    sa.Column('expires_at', sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('person_id', 'chat'))
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_expires_at'))
    op.drop_table('questions')
