"""stages: days without contact before a board card turns red (issue 16)

Revision ID: v1a0presalessurv
Revises: u1a0tokenlinks01
"""
from alembic import op
import sqlalchemy as sa


revision = 'v1a0presalessurv'
down_revision = 'u1a0tokenlinks01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_days', sa.Integer(), nullable=True))
    # Existing open stages get the week new stages start with; won and lost stages have no contact limit.
    op.execute("UPDATE stages SET contact_days = 7 WHERE NOT is_won AND NOT is_lost")


def downgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_column('contact_days')
