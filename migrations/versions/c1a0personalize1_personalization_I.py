"""personalization I: catalog, windows, selections, buyers

Revision ID: c1a0personalize1
Revises: fdf58d484d43
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'c1a0personalize1'
down_revision = 'fdf58d484d43'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
