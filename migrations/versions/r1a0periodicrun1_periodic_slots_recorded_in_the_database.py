"""periodic slots recorded in the database

Revision ID: r1a0periodicrun1
Revises: q1a0delivlease01
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'r1a0periodicrun1'
down_revision = 'q1a0delivlease01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
