"""personalization slot (issue 16)

Revision ID: w1a0personalize1
Revises: v1a0presalessurv
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'w1a0personalize1'
down_revision = 'v1a0presalessurv'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
