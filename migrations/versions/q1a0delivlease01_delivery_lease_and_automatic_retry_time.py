"""delivery lease and automatic retry time

Revision ID: q1a0delivlease01
Revises: p1a0zapsign00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'q1a0delivlease01'
down_revision = 'p1a0zapsign00001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
