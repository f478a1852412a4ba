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
    T = portal.dbtypes.UTCDateTime
    op.create_table(
        "signature_envelopes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contract_id", sa.Integer(), sa.ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("selection_id", sa.Integer(), sa.ForeignKey("selections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_reason", sa.String(255), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("sent_at", T(), nullable=True),
        sa.Column("expires_at", T(), nullable=True),
        sa.Column("completed_at", T(), nullable=True),
        sa.Column("signed_file_path", sa.String(255), nullable=True),
        sa.Column("signed_sha256", sa.String(64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    for col in ("contract_id", "selection_id", "development_id", "external_id", "expires_at"):
        op.create_index(f"ix_signature_envelopes_{col}", "signature_envelopes", [col])
    valid = sa.text("status IN ('draft', 'sent', 'partial', 'signed')")
    op.create_index("uq_signature_envelopes_valid_selection", "signature_envelopes", ["selection_id"], unique=True,
                    sqlite_where=valid, postgresql_where=valid)
    op.create_table(
        "signature_signers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("envelope_id", sa.Integer(), sa.ForeignKey("signature_envelopes.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("cpf", sa.String(11), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("sign_url", sa.String(500), nullable=True),
        sa.Column("otp_hash", sa.String(255), nullable=True),
        sa.Column("otp_channel", sa.String(10), nullable=True),
        sa.Column("otp_sent_at", T(), nullable=True),
        sa.Column("otp_expires_at", T(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_at", T(), nullable=True),
        sa.Column("signed_at", T(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("refusal_reason", sa.String(255), nullable=True),
    )
    for col in ("envelope_id", "user_id", "external_id"):
        op.create_index(f"ix_signature_signers_{col}", "signature_signers", [col])


def downgrade():
    op.drop_table("signature_signers")
    op.drop_table("signature_envelopes")
