"""cs nps products topics

Revision ID: n1a0csnps0000003
Revises: m1a0cscapacity01
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'n1a0csnps0000003'
down_revision = 'm1a0cscapacity01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
