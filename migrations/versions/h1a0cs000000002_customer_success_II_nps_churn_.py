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
    op.create_table(
        "cs_nps_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("cs_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csm_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("segment", sa.String(20), nullable=False),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("answered_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="SET NULL"), nullable=True),
        sa.Column("response_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("action_plan", sa.Text(), nullable=False, server_default=""),
        sa.Column("closed_at", portal.dbtypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_cs_nps_responses_answered_at", "cs_nps_responses", ["answered_at"])
    op.create_index("ix_cs_nps_responses_account_id", "cs_nps_responses", ["account_id"])


def downgrade():
    op.drop_index("ix_cs_nps_responses_account_id", "cs_nps_responses")
    op.drop_index("ix_cs_nps_responses_answered_at", "cs_nps_responses")
    op.drop_table("cs_nps_responses")
