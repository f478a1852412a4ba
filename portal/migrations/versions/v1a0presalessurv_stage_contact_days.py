"""pre-sales slot (issue 16)

Revision ID: v1a0presalessurv
Revises: u1a0tokenlinks01
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'v1a0presalessurv'
down_revision = 'u1a0tokenlinks01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
