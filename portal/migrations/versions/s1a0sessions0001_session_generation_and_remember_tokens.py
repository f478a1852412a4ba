"""session generation and remember tokens

Revision ID: s1a0sessions0001
Revises: r1a0periodicrun1
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 's1a0sessions0001'
down_revision = 'r1a0periodicrun1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'remember_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_remember_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_remember_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_remember_tokens_token_hash')),
    )
    op.create_index(op.f('ix_remember_tokens_user_id'), 'remember_tokens', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_remember_tokens_user_id'), table_name='remember_tokens')
    op.drop_table('remember_tokens')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_version')
