"""customer success II nps churn capacity migrations

Revision ID: h1a0cs000000002
Revises: g1a0personalize2
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'h1a0cs000000002'
down_revision = 'g1a0personalize2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
