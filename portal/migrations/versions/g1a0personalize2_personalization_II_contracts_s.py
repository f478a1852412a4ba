"""personalization II contracts signatures payments appointments

Revision ID: g1a0personalize2
Revises: f1a0leadidx00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'g1a0personalize2'
down_revision = 'f1a0leadidx00001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contract_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("development_id", "version"),
    )
    op.create_index("ix_contract_templates_development_id", "contract_templates", ["development_id"])
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("selection_id", sa.Integer(), sa.ForeignKey("selections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("contract_templates.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("selection_revision", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("payment_method", sa.String(12), nullable=True),
        sa.Column("installments", sa.Integer(), nullable=True),
        sa.Column("file_path", sa.String(255), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("rendered_at", portal.dbtypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_contracts_selection_id", "contracts", ["selection_id"])
    op.create_index("ix_contracts_development_id", "contracts", ["development_id"])
    op.create_table(
        "payment_choices",
        sa.Column("selection_id", sa.Integer(), sa.ForeignKey("selections.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=False),
        sa.Column("chosen_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("chosen_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_table(
        "payment_options",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("max_installments", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.UniqueConstraint("development_id", "method"),
    )
    op.create_index("ix_payment_options_development_id", "payment_options", ["development_id"])


def downgrade():
    op.drop_index("ix_payment_options_development_id", "payment_options")
    op.drop_table("payment_options")
    op.drop_table("payment_choices")
    op.drop_index("ix_contracts_development_id", "contracts")
    op.drop_index("ix_contracts_selection_id", "contracts")
    op.drop_table("contracts")
    op.drop_index("ix_contract_templates_development_id", "contract_templates")
    op.drop_table("contract_templates")
