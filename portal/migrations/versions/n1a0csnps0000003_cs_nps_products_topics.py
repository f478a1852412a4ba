"""cs nps products topics: surveys sent (pending until answered), the products of each answer (NPS per
product) and the topics CSMs tag on negative comments (seeded list, editable).

Revision ID: n1a0csnps0000003
Revises: m1a0cscapacity01
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'n1a0csnps0000003'
down_revision = 'm1a0cscapacity01'
branch_labels = None
depends_on = None

DEFAULT_TOPICS = ("Suporte", "Preço", "Usabilidade", "Bugs", "Performance", "Treinamento", "Integrações",
                  "Atendimento comercial", "Onboarding", "Relatórios", "Aplicativo móvel", "Cobrança")


def upgrade():
    topics = op.create_table(
        "cs_nps_topics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.bulk_insert(topics, [{"name": name, "active": True} for name in DEFAULT_TOPICS])
    op.create_table(
        "cs_nps_response_topics",
        sa.Column("response_id", sa.Integer(), sa.ForeignKey("cs_nps_responses.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("topic_id", sa.Integer(), sa.ForeignKey("cs_nps_topics.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_cs_nps_response_topics_topic_id", "cs_nps_response_topics", ["topic_id"])
    op.create_table(
        "cs_nps_response_products",
        sa.Column("response_id", sa.Integer(), sa.ForeignKey("cs_nps_responses.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("cs_products.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_cs_nps_response_products_product_id", "cs_nps_response_products", ["product_id"])
    # answers given before this revision count for the products their account has now
    op.execute("INSERT INTO cs_nps_response_products (response_id, product_id) "
               "SELECT r.id, ap.product_id FROM cs_nps_responses r "
               "JOIN cs_account_products ap ON ap.account_id = r.account_id")
    op.create_table(
        "cs_nps_surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("cs_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("sent_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("response_id", sa.Integer(), sa.ForeignKey("cs_nps_responses.id", ondelete="SET NULL"),
                  nullable=True),
    )
    op.create_index("ix_cs_nps_surveys_account_sent", "cs_nps_surveys", ["account_id", "sent_at"])
    op.create_index("ix_cs_nps_surveys_sent_at", "cs_nps_surveys", ["sent_at"])


def downgrade():
    op.drop_index("ix_cs_nps_surveys_sent_at", "cs_nps_surveys")
    op.drop_index("ix_cs_nps_surveys_account_sent", "cs_nps_surveys")
    op.drop_table("cs_nps_surveys")
    op.drop_index("ix_cs_nps_response_products_product_id", "cs_nps_response_products")
    op.drop_table("cs_nps_response_products")
    op.drop_index("ix_cs_nps_response_topics_topic_id", "cs_nps_response_topics")
    op.drop_table("cs_nps_response_topics")
    op.drop_table("cs_nps_topics")
