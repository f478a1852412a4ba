"""delivery lease and automatic retry time

Revision ID: q1a0delivlease01
Revises: p1a0zapsign00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'q1a0delivlease01'
down_revision = 'p1a0zapsign00001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retry_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('extra_retry_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_deliveries_channel_sent', ['channel', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_channel_sent')
        batch_op.drop_column('extra_retry_at')
        batch_op.drop_column('retry_at')
        batch_op.drop_column('claimed_at')
