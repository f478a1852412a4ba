"""api client scopes and secret paths

Revision ID: t1a0apiscopes001
Revises: s1a0sessions0001

API clients get scopes, an optional own rate limit and a secret webhook path (stored hashed). Clients that
exist before this revision could call every endpoint, so they get every scope that existed then: nothing
breaks on upgrade; an admin narrows them by creating new clients. They have no webhook path yet: RD Station
integrations that sent `?token=` must be given the new URL (admin → Clientes de API → Gerar endereço).
"""
from alembic import op
import sqlalchemy as sa


revision = 't1a0apiscopes001'
down_revision = 's1a0sessions0001'
branch_labels = None
depends_on = None

# What a token could do before scopes existed (spelled out: a migration never reads the live registry).
SCOPES_BEFORE = "cs:usage:write leads:write webhooks:rdstation"


def upgrade():
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=400), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rate_limit', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret_prefix', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_api_clients_webhook_secret_hash'), ['webhook_secret_hash'])
    api_clients = sa.table('api_clients', sa.column('scopes', sa.String))
    op.execute(api_clients.update().values(scopes=SCOPES_BEFORE))


def downgrade():
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_api_clients_webhook_secret_hash'), type_='unique')
        batch_op.drop_column('webhook_secret_prefix')
        batch_op.drop_column('webhook_secret_hash')
        batch_op.drop_column('rate_limit')
        batch_op.drop_column('scopes')
