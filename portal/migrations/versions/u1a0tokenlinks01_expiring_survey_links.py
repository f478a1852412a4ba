"""expiring survey links

Revision ID: u1a0tokenlinks01
Revises: t1a0apiscopes001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'u1a0tokenlinks01'
down_revision = 't1a0apiscopes001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
