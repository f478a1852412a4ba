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

    reasons = op.create_table(
        "cs_churn_reasons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.bulk_insert(reasons, [{"name": name, "active": True} for name in (
        "Percepção de valor", "Suporte", "Falta de uso", "Inadimplência", "Decisão top-down", "Experiência",
        "Produto não evolui", "Concorrente")])
    op.create_table(
        "cs_churns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("cs_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("churn_date", sa.Date(), nullable=False),
        sa.Column("mrr_lost_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason_id", sa.Integer(), sa.ForeignKey("cs_churn_reasons.id"), nullable=False),
        sa.Column("csm_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("segment", sa.String(20), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False, server_default=""),
        sa.Column("signals", sa.Text(), nullable=False, server_default=""),
        sa.Column("changes", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cs_churns_churn_date", "cs_churns", ["churn_date"])
    op.create_index("ix_cs_churns_account_id", "cs_churns", ["account_id"])


def downgrade():
    op.drop_index("ix_cs_churns_account_id", "cs_churns")
    op.drop_index("ix_cs_churns_churn_date", "cs_churns")
    op.drop_table("cs_churns")
    op.drop_table("cs_churn_reasons")
    op.drop_index("ix_cs_nps_responses_account_id", "cs_nps_responses")
    op.drop_index("ix_cs_nps_responses_answered_at", "cs_nps_responses")
    op.drop_table("cs_nps_responses")
