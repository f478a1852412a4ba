"""api client scopes and secret paths

Revision ID: t1a0apiscopes001
Revises: s1a0sessions0001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 't1a0apiscopes001'
down_revision = 's1a0sessions0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
