"""appointments

Revision ID: j1a0appoint00001
Revises: i1a0sign00000001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'j1a0appoint00001'
down_revision = 'i1a0sign00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
