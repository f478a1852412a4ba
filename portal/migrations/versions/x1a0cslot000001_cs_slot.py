"""customer success slot (issue 16)

Revision ID: x1a0cslot000001
Revises: w1a0personalize1
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'x1a0cslot000001'
down_revision = 'w1a0personalize1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
