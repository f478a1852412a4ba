"""cs product migration playbooks

Revision ID: o1a0csmigrate001
Revises: n1a0csnps0000003
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'o1a0csmigrate001'
down_revision = 'n1a0csnps0000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
