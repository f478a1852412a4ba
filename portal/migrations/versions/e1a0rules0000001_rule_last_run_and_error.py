"""rules: last run time and last error

Revision ID: e1a0rules0000001
Revises: d1a0cs000000001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'e1a0rules0000001'
down_revision = 'd1a0cs000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_run_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('last_run_at')
