"""personalization II contracts signatures payments appointments

Revision ID: g1a0personalize2
Revises: f1a0leadidx00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'g1a0personalize2'
down_revision = 'f1a0leadidx00001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
