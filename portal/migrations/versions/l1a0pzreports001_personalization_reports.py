"""personalization reports

Revision ID: l1a0pzreports001
Revises: k1a0question0001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'l1a0pzreports001'
down_revision = 'k1a0question0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
