"""plan and calendar

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:25:01.123424

The one plan (planned and forecast dates, lateness, workshop capacity and shifts) and the
plant's own calendar.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_runs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('planned_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('steps_written', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('calendar_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('workshop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('spans', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], ),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'scope')
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_days_day'), ['day'], unique=False)

    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('confirmed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by'], ['people.id'], ),
    sa.PrimaryKeyConstraint('year')
    )
    with op.batch_alter_table('delay_warnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_delay_warnings_order_id'), ['order_id'], unique=False)
        batch_op.create_foreign_key('fk_delay_warnings_order_id', 'orders', ['order_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('forecast_end', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('late_minutes', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forecast_start', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('forecast_end', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('forecast_line', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('late_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_hash', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_stamp', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('retimed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_steps_retimed_at'), ['retimed_at'], unique=False)

    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('working_hours', sa.String(length=200), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_column('working_hours')
        batch_op.drop_column('capacity')

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_steps_retimed_at'))
        batch_op.drop_column('retimed_at')
        batch_op.drop_column('plan_stamp')
        batch_op.drop_column('plan_hash')
        batch_op.drop_column('provisional')
        batch_op.drop_column('late_minutes')
        batch_op.drop_column('forecast_line')
        batch_op.drop_column('forecast_end')
        batch_op.drop_column('forecast_start')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('late_minutes')
        batch_op.drop_column('forecast_end')
        batch_op.drop_column('due_at')

    with op.batch_alter_table('delay_warnings', schema=None) as batch_op:
        batch_op.drop_constraint('fk_delay_warnings_order_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_delay_warnings_order_id'))
        batch_op.drop_column('order_id')

    op.drop_table('calendar_years')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_days_day'))

    op.drop_table('calendar_days')
    op.drop_table('plan_runs')
