"""session generation and remember tokens

Revision ID: s1a0sessions0001
Revises: r1a0periodicrun1
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 's1a0sessions0001'
down_revision = 'r1a0periodicrun1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
