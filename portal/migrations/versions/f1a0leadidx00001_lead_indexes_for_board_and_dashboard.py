"""leads: indexes for the board, the dashboard period and negotiations

Revision ID: f1a0leadidx00001
Revises: e1a0rules0000001
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1a0leadidx00001'
down_revision = 'e1a0rules0000001'
branch_labels = None
depends_on = None

NEGOTIATING = "negotiated_value_cents IS NOT NULL"


def upgrade():
    op.create_index('ix_leads_created_at', 'leads', ['created_at'])
    op.create_index('ix_leads_stage_entered', 'leads', ['stage_id', 'stage_entered_at'])
    op.create_index('ix_leads_board', 'leads', ['pipeline_id', 'stage_id', 'owner_id', 'sdr_id'])
    op.create_index('ix_leads_negotiating', 'leads', ['negotiated_value_cents'],
                    sqlite_where=sa.text(NEGOTIATING), postgresql_where=sa.text(NEGOTIATING))


def downgrade():
    for name in ('ix_leads_negotiating', 'ix_leads_board', 'ix_leads_stage_entered', 'ix_leads_created_at'):
        op.drop_index(name, table_name='leads')
