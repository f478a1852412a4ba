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
    op.create_table(
        'periodic_runs',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('last_slot', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_runs')),
    )


def downgrade():
    op.drop_table('periodic_runs')
