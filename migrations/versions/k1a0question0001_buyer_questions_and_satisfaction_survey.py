"""buyer questions and satisfaction survey

Revision ID: k1a0question0001
Revises: j1a0appoint00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'k1a0question0001'
down_revision = 'j1a0appoint00001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
