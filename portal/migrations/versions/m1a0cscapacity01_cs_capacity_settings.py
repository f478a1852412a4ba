"""cs capacity settings: the CSM capacity knobs (a `capacity` section of cs_settings) and MRR expansion
records next to the churn records (gross and net revenue retention).

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
    with op.batch_alter_table("cs_settings") as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False,
                                      server_default="{}"))
    op.create_table(
        "cs_mrr_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("cs_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("change_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("mrr_before_cents", sa.BigInteger(), nullable=False),
        sa.Column("mrr_after_cents", sa.BigInteger(), nullable=False),
        sa.Column("csm_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("segment", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cs_mrr_changes_account_id", "cs_mrr_changes", ["account_id", "change_date"])
    op.create_index("ix_cs_mrr_changes_change_date", "cs_mrr_changes", ["change_date"])


def downgrade():
    op.drop_index("ix_cs_mrr_changes_change_date", table_name="cs_mrr_changes")
    op.drop_index("ix_cs_mrr_changes_account_id", table_name="cs_mrr_changes")
    op.drop_table("cs_mrr_changes")
    with op.batch_alter_table("cs_settings") as batch_op:
        batch_op.drop_column("capacity")
