"""customer success I: accounts, journey, touchpoints, health

Revision ID: d1a0cs000000001
Revises: c1a0personalize1
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'd1a0cs000000001'
down_revision = 'c1a0personalize1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cs_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_products')),
    sa.UniqueConstraint('name', name=op.f('uq_cs_products_name'))
    )
    op.create_table('cs_alert_rules',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_cs_alert_rules_rule_id_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_cs_alert_rules')),
    sa.UniqueConstraint('rule_id', name=op.f('uq_cs_alert_rules_rule_id'))
    )
    op.create_table('cs_key_features',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['cs_products.id'], name=op.f('fk_cs_key_features_product_id_cs_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_key_features')),
    sa.UniqueConstraint('code', name=op.f('uq_cs_key_features_code'))
    )
    with op.batch_alter_table('cs_key_features', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_key_features_product_id'), ['product_id'], unique=False)

    op.create_table('cs_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=False),
    sa.Column('mrr_cents', sa.BigInteger(), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=True),
    sa.Column('renewal_date', sa.Date(), nullable=True),
    sa.Column('from_competitor', sa.Boolean(), nullable=False),
    sa.Column('competitor', sa.String(length=80), nullable=True),
    sa.Column('contact_points', sa.Integer(), nullable=False),
    sa.Column('csm_id', sa.Integer(), nullable=True),
    sa.Column('segment', sa.String(length=20), nullable=False),
    sa.Column('touch_model', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('phase_started_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('phase_due_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_touchpoint_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_follow_up_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_visit_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_visit_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_rts_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_rts_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sponsor_met_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('open_tickets', sa.Integer(), nullable=False),
    sa.Column('sla_breaches', sa.Integer(), nullable=False),
    sa.Column('last_nps', sa.Integer(), nullable=True),
    sa.Column('last_nps_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('potential_cents', sa.BigInteger(), nullable=True),
    sa.Column('potential_updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_usage_on', sa.Date(), nullable=True),
    sa.Column('risk_flag', sa.Boolean(), nullable=False),
    sa.Column('risk_reason', sa.Text(), nullable=False),
    sa.Column('risk_flagged_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('health_score', sa.Integer(), nullable=True),
    sa.Column('health_grade', sa.String(length=10), nullable=True),
    sa.Column('health_on', sa.Date(), nullable=True),
    sa.Column('health_change_7d', sa.Integer(), nullable=True),
    sa.Column('engagement_score', sa.Integer(), nullable=True),
    sa.Column('usage_wow_pct', sa.Integer(), nullable=True),
    sa.Column('churn_risk_since', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['csm_id'], ['users.id'], name=op.f('fk_cs_accounts_csm_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_accounts')),
    sa.UniqueConstraint('cnpj', name=op.f('uq_cs_accounts_cnpj'))
    )
    with op.batch_alter_table('cs_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_cs_accounts_csm_follow_up', ['csm_id', 'next_follow_up_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_accounts_health_grade'), ['health_grade'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_accounts_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_accounts_next_follow_up_at'), ['next_follow_up_at'], unique=False)
        batch_op.create_index('ix_cs_accounts_phase', ['phase', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_accounts_renewal_date'), ['renewal_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_cs_accounts_segment'), ['segment'], unique=False)

    op.create_table('cs_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segmentation', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('journey', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('health', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_cs_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_settings'))
    )
    op.create_table('cs_account_products',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_account_products_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['cs_products.id'], name=op.f('fk_cs_account_products_product_id_cs_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'product_id', name=op.f('pk_cs_account_products'))
    )
    with op.batch_alter_table('cs_account_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_account_products_product_id'), ['product_id'], unique=False)

    op.create_table('cs_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('job_title', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('decision_maker', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_contacts_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_contacts')),
    sa.UniqueConstraint('account_id', 'email', name=op.f('uq_cs_contacts_account_id_email'))
    )
    with op.batch_alter_table('cs_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cs_contacts_account_id'), ['account_id'], unique=False)

    op.create_table('cs_health_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=10), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('measures', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('computed_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_health_scores_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_health_scores')),
    sa.UniqueConstraint('account_id', 'day', name=op.f('uq_cs_health_scores_account_id_day'))
    )
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.create_index('ix_cs_health_scores_day', ['day', 'score'], unique=False)

    op.create_table('cs_onboarding_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('done_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_onboarding_steps_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_cs_onboarding_steps_done_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_onboarding_steps')),
    sa.UniqueConstraint('account_id', 'step', name=op.f('uq_cs_onboarding_steps_account_id_step'))
    )
    op.create_table('cs_phase_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('from_phase', sa.String(length=20), nullable=True),
    sa.Column('to_phase', sa.String(length=20), nullable=False),
    sa.Column('at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_phase_changes_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cs_phase_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_phase_changes'))
    )
    with op.batch_alter_table('cs_phase_changes', schema=None) as batch_op:
        batch_op.create_index('ix_cs_phase_changes_account', ['account_id', 'at'], unique=False)

    op.create_table('cs_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('feature', sa.String(length=80), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('received_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_usage_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_usage')),
    sa.UniqueConstraint('account_id', 'day', 'feature', name=op.f('uq_cs_usage_account_id_day_feature'))
    )
    with op.batch_alter_table('cs_usage', schema=None) as batch_op:
        batch_op.create_index('ix_cs_usage_day', ['day', 'account_id'], unique=False)

    op.create_table('cs_touchpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('decision_maker', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['cs_accounts.id'], name=op.f('fk_cs_touchpoints_account_id_cs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['cs_contacts.id'], name=op.f('fk_cs_touchpoints_contact_id_cs_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cs_touchpoints_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cs_touchpoints'))
    )
    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.create_index('ix_cs_touchpoints_account', ['account_id', 'occurred_at'], unique=False)



def downgrade():
    with op.batch_alter_table('cs_touchpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_cs_touchpoints_account')

    op.drop_table('cs_touchpoints')
    with op.batch_alter_table('cs_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_cs_usage_day')

    op.drop_table('cs_usage')
    with op.batch_alter_table('cs_phase_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_cs_phase_changes_account')

    op.drop_table('cs_phase_changes')
    op.drop_table('cs_onboarding_steps')
    with op.batch_alter_table('cs_health_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_cs_health_scores_day')

    op.drop_table('cs_health_scores')
    with op.batch_alter_table('cs_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_contacts_account_id'))

    op.drop_table('cs_contacts')
    with op.batch_alter_table('cs_account_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_account_products_product_id'))

    op.drop_table('cs_account_products')
    op.drop_table('cs_settings')
    with op.batch_alter_table('cs_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_accounts_segment'))
        batch_op.drop_index(batch_op.f('ix_cs_accounts_renewal_date'))
        batch_op.drop_index('ix_cs_accounts_phase')
        batch_op.drop_index(batch_op.f('ix_cs_accounts_next_follow_up_at'))
        batch_op.drop_index(batch_op.f('ix_cs_accounts_name'))
        batch_op.drop_index(batch_op.f('ix_cs_accounts_health_grade'))
        batch_op.drop_index('ix_cs_accounts_csm_follow_up')

    op.drop_table('cs_accounts')
    with op.batch_alter_table('cs_key_features', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cs_key_features_product_id'))

    op.drop_table('cs_key_features')
    op.drop_table('cs_alert_rules')
    op.drop_table('cs_products')
