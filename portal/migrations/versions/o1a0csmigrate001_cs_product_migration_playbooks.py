"""cs product migration playbooks

Revision ID: o1a0csmigrate001
Revises: n1a0csnps0000003
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'o1a0csmigrate001'
down_revision = 'n1a0csnps0000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cs_products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legacy", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("successor_id", sa.Integer(),
                                      sa.ForeignKey("cs_products.id", name="fk_cs_products_successor_id",
                                                    ondelete="SET NULL"), nullable=True))
    op.create_table(
        "cs_product_components",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("cs_products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("product_id", "name"),
    )
    op.create_index("ix_cs_product_components_product_id", "cs_product_components", ["product_id"])
    op.create_table(
        "cs_migrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("cs_accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("legacy_product_id", sa.Integer(), sa.ForeignKey("cs_products.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("new_product_id", sa.Integer(), sa.ForeignKey("cs_products.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("step_since", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("legacy_entity_id", sa.String(40), nullable=False),
        sa.Column("new_entity_id", sa.String(40), nullable=False),
        sa.Column("parallel_until", sa.Date(), nullable=True),
        sa.Column("legacy_shutdown_on", sa.Date(), nullable=True),
        sa.Column("finished_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "legacy_product_id"),
    )
    op.create_index("ix_cs_migrations_account_id", "cs_migrations", ["account_id"])
    op.create_index("ix_cs_migrations_legacy_product_id", "cs_migrations", ["legacy_product_id"])
    op.create_table(
        "cs_migration_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("migration_id", sa.Integer(), sa.ForeignKey("cs_migrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("migration_id", "step"),
    )
    op.create_index("ix_cs_migration_steps_migration_id", "cs_migration_steps", ["migration_id"])
    op.create_table(
        "cs_migration_components",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("migration_id", sa.Integer(), sa.ForeignKey("cs_migrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("legacy_price_cents", sa.BigInteger(), nullable=True),
        sa.Column("table_price_cents", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("migration_id", "name"),
    )
    op.create_index("ix_cs_migration_components_migration_id", "cs_migration_components", ["migration_id"])


def downgrade():
    op.drop_index("ix_cs_migration_components_migration_id", "cs_migration_components")
    op.drop_table("cs_migration_components")
    op.drop_index("ix_cs_migration_steps_migration_id", "cs_migration_steps")
    op.drop_table("cs_migration_steps")
    op.drop_index("ix_cs_migrations_legacy_product_id", "cs_migrations")
    op.drop_index("ix_cs_migrations_account_id", "cs_migrations")
    op.drop_table("cs_migrations")
    op.drop_index("ix_cs_product_components_product_id", "cs_product_components")
    op.drop_table("cs_product_components")
    with op.batch_alter_table("cs_products", schema=None) as batch_op:
        batch_op.drop_column("successor_id")
        batch_op.drop_column("legacy")
