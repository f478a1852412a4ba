"""pre-sales satisfaction survey (lead_surveys); stages: days without contact before a board card turns red

Revision ID: v1a0presalessurv
Revises: u1a0tokenlinks01
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'v1a0presalessurv'
down_revision = 'u1a0tokenlinks01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_days', sa.Integer(), nullable=True))
    # Existing open stages get the week new stages start with; won and lost stages have no contact limit.
    op.execute("UPDATE stages SET contact_days = 7 WHERE NOT is_won AND NOT is_lost")
    op.create_table(
        'lead_surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('sent_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), server_default='', nullable=False),
        sa.Column('answered_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint('score IS NULL OR (score >= 1 AND score <= 5)', name='ck_lead_survey_score'),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('lead_id'),
        sa.UniqueConstraint('nonce'),
    )
    with op.batch_alter_table('lead_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_surveys_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_surveys_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_surveys_answered_at'), ['answered_at'], unique=False)


def downgrade():
    op.drop_table('lead_surveys')
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_column('contact_days')
