"""customer success I: accounts, journey, touchpoints, health

Revision ID: d1a0cs000000001
Revises: c1a0personalize1
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'd1a0cs000000001'
down_revision = 'c1a0personalize1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
