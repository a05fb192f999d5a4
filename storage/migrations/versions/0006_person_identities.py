"""person identities: a person's user id per platform, in a table of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:30:00

Moves people.wecom_userid and people.dingtalk_userid into person_identities (person, platform,
user id), so that a new platform needs no new column. Downgrading copies the WeCom and DingTalk
ids back; ids on any other platform have no column to go to and are dropped with the table.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# The platforms that had a column of their own before this revision, and that column.
OLD_COLUMNS = (('wecom', 'wecom_userid'), ('dingtalk', 'dingtalk_userid'))


def upgrade() -> None:
    op.create_table('person_identities',
                    sa.Column('id', ID, nullable=False),
                    sa.Column('person_id', ID, nullable=False),
                    sa.Column('platform', sa.String(length=16), nullable=False),
                    sa.Column('user_id', sa.String(length=80), nullable=False),
                    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('person_id', 'platform'),
                    sa.UniqueConstraint('platform', 'user_id'))
    for platform, column in OLD_COLUMNS:
        op.execute(sa.text(f"INSERT INTO person_identities (person_id, platform, user_id) "
                           f"SELECT id, :platform, {column} FROM people WHERE {column} IS NOT NULL "
                           f"AND {column} <> ''").bindparams(platform=platform))
    with op.batch_alter_table('people', schema=None) as batch_op:
        for _platform, column in OLD_COLUMNS:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        for _platform, column in OLD_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.String(length=80), nullable=True))
    for platform, column in OLD_COLUMNS:
        op.execute(sa.text(f"UPDATE people SET {column} = (SELECT user_id FROM person_identities "
                           f"WHERE person_identities.person_id = people.id AND platform = :platform)")
                   .bindparams(platform=platform))
    with op.batch_alter_table('people', schema=None) as batch_op:
        for _platform, column in OLD_COLUMNS:
            batch_op.create_unique_constraint(f'people_{column}_key', [column])
    op.drop_table('person_identities')
