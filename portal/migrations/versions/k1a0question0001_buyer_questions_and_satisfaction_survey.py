"""buyer questions and satisfaction survey

Revision ID: k1a0question0001
Revises: j1a0appoint00001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'k1a0question0001'
down_revision = 'j1a0appoint00001'
branch_labels = None
depends_on = None


def upgrade():
    T = portal.dbtypes.UTCDateTime
    op.create_table(
        "buyer_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("opened_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("subject", sa.String(160), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("last_message_at", T(), nullable=False),
        sa.Column("messages_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", T(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_buyer_questions_unit_id", "buyer_questions", ["unit_id"])
    op.create_index("ix_buyer_questions_last_message_at", "buyer_questions", ["last_message_at"])
    op.create_index("ix_buyer_questions_development_status", "buyer_questions", ["development_id", "status"])
    op.create_table(
        "buyer_question_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("buyer_questions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
    )
    op.create_index("ix_buyer_question_messages_question_id", "buyer_question_messages", ["question_id"])
    op.create_table(
        "buyer_question_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("buyer_question_messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stored_name", sa.String(80), nullable=False, unique=True),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
    )
    op.create_index("ix_buyer_question_attachments_message_id", "buyer_question_attachments", ["message_id"])
    op.create_index("ix_buyer_question_attachments_unit_id", "buyer_question_attachments", ["unit_id"])
    op.create_table(
        "personalize_default_rules",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("rule_id", sa.Integer(), sa.ForeignKey("rules.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", T(), nullable=False),
    )
    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("envelope_id", sa.Integer(), sa.ForeignKey("signature_envelopes.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="SET NULL"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("sent_at", T(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("answered_at", T(), nullable=True),
        sa.UniqueConstraint("envelope_id", "user_id"),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_satisfaction_score"),
    )
    op.create_index("ix_satisfaction_surveys_development_id", "satisfaction_surveys", ["development_id"])
    op.create_index("ix_satisfaction_surveys_sent_at", "satisfaction_surveys", ["sent_at"])
    op.create_index("ix_satisfaction_surveys_answered_at", "satisfaction_surveys", ["answered_at"])


def downgrade():
    op.drop_table("satisfaction_surveys")
    op.drop_table("personalize_default_rules")
    op.drop_table("buyer_question_attachments")
    op.drop_table("buyer_question_messages")
    op.drop_table("buyer_questions")
