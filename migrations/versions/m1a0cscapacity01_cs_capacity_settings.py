"""cs capacity settings

Revision ID: m1a0cscapacity01
Revises: l1a0pzreports001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'm1a0cscapacity01'
down_revision = 'l1a0pzreports001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
