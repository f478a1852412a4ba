"""external signature provider

Revision ID: p1a0zapsign00001
Revises: o1a0csmigrate001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'p1a0zapsign00001'
down_revision = 'o1a0csmigrate001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
