"""signature envelopes and signers

Revision ID: i1a0sign00000001
Revises: h1a0cs000000002
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'i1a0sign00000001'
down_revision = 'h1a0cs000000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
