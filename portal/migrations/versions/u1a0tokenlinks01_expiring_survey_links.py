"""expiring survey links; unit links that wait for the buyer's consent

Survey links need no column (they are signed and timestamped, see portal/signed_links.py). Linking an
existing customer of another development to a unit waits in buyer_link_requests until the buyer accepts.

Revision ID: u1a0tokenlinks01
Revises: t1a0apiscopes001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'u1a0tokenlinks01'
down_revision = 't1a0apiscopes001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'buyer_link_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('development_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('requested_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('declined_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_buyer_link_requests_unit_id_units'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['development_id'], ['developments.id'],
                                name=op.f('fk_buyer_link_requests_development_id_developments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_buyer_link_requests_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_buyer_link_requests_requested_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_link_requests')),
        sa.UniqueConstraint('nonce', name=op.f('uq_buyer_link_requests_nonce')),
        sa.UniqueConstraint('unit_id', 'user_id', name=op.f('uq_buyer_link_requests_unit_id_user_id')),
    )
    op.create_index(op.f('ix_buyer_link_requests_development_id'), 'buyer_link_requests', ['development_id'])
    op.create_index(op.f('ix_buyer_link_requests_user_id'), 'buyer_link_requests', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_buyer_link_requests_user_id'), table_name='buyer_link_requests')
    op.drop_index(op.f('ix_buyer_link_requests_development_id'), table_name='buyer_link_requests')
    op.drop_table('buyer_link_requests')
