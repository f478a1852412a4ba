"""personalization I: catalog, windows, selections, buyers

Revision ID: c1a0personalize1
Revises: fdf58d484d43
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'c1a0personalize1'
down_revision = 'fdf58d484d43'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('buyer_profile_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('choices', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_profile_fields')),
    sa.UniqueConstraint('key', name=op.f('uq_buyer_profile_fields_key'))
    )

    op.create_table('finish_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_finish_categories_development_id_developments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finish_categories')),
    sa.UniqueConstraint('development_id', 'name', name=op.f('uq_finish_categories_development_id_name'))
    )

    with op.batch_alter_table('finish_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_categories_development_id'), ['development_id'], unique=False)

    op.create_table('buyer_keys',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_buyer_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_buyer_keys'))
    )

    with op.batch_alter_table('buyer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_keys_user_id'), ['user_id'], unique=False)

    op.create_table('buyer_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON().with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.Column('invited_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invitations', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_buyer_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_buyer_profiles'))
    )

    op.create_table('finish_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['finish_categories.id'], name=op.f('fk_finish_items_category_id_finish_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_finish_items_development_id_developments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finish_items'))
    )

    with op.batch_alter_table('finish_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_items_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finish_items_development_id'), ['development_id'], unique=False)

    op.create_table('personalization_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('tower_id', sa.Integer(), nullable=True),
    sa.Column('typology_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('opens_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_event_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_event_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_personalization_windows_development_id_developments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tower_id'], ['towers.id'], name=op.f('fk_personalization_windows_tower_id_towers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['typology_id'], ['typologies.id'], name=op.f('fk_personalization_windows_typology_id_typologies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personalization_windows'))
    )

    with op.batch_alter_table('personalization_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personalization_windows_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personalization_windows_development_id'), ['development_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personalization_windows_opens_at'), ['opens_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personalization_windows_tower_id'), ['tower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personalization_windows_typology_id'), ['typology_id'], unique=False)

    op.create_table('finish_item_typologies',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('typology_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['finish_items.id'], name=op.f('fk_finish_item_typologies_item_id_finish_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['typology_id'], ['typologies.id'], name=op.f('fk_finish_item_typologies_typology_id_typologies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'typology_id', name=op.f('pk_finish_item_typologies'))
    )

    with op.batch_alter_table('finish_item_typologies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_item_typologies_typology_id'), ['typology_id'], unique=False)

    op.create_table('finish_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('manufacturer_url', sa.String(length=500), nullable=False),
    sa.Column('is_standard', sa.Boolean(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('price_version', sa.Integer(), nullable=False),
    sa.Column('retired_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_finish_options_development_id_developments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['finish_items.id'], name=op.f('fk_finish_options_item_id_finish_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['finish_options.id'], name=op.f('fk_finish_options_replaced_by_id_finish_options')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finish_options'))
    )

    with op.batch_alter_table('finish_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_options_development_id'), ['development_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finish_options_item_id'), ['item_id'], unique=False)

    op.create_table('selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('submitted_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.String(length=255), nullable=True),
    sa.Column('last_activity_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_activity_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_selections_development_id_developments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_activity_by_id'], ['users.id'], name=op.f('fk_selections_last_activity_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_selections_reopened_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_selections_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_selections_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['personalization_windows.id'], name=op.f('fk_selections_window_id_personalization_windows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selections')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_selections_unit_id'))
    )

    with op.batch_alter_table('selections', schema=None) as batch_op:
        batch_op.create_index('ix_selections_development_status', ['development_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_selections_window_id'), ['window_id'], unique=False)

    op.create_table('window_categories',
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['finish_categories.id'], name=op.f('fk_window_categories_category_id_finish_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['personalization_windows.id'], name=op.f('fk_window_categories_window_id_personalization_windows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('window_id', 'category_id', name=op.f('pk_window_categories'))
    )

    op.create_table('finish_option_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_finish_option_photos_development_id_developments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['option_id'], ['finish_options.id'], name=op.f('fk_finish_option_photos_option_id_finish_options'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finish_option_photos')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_finish_option_photos_stored_name'))
    )

    with op.batch_alter_table('finish_option_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_option_photos_development_id'), ['development_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finish_option_photos_option_id'), ['option_id'], unique=False)

    op.create_table('finish_option_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_finish_option_prices_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['option_id'], ['finish_options.id'], name=op.f('fk_finish_option_prices_option_id_finish_options'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finish_option_prices')),
    sa.UniqueConstraint('option_id', 'version', name=op.f('uq_finish_option_prices_option_id_version'))
    )

    with op.batch_alter_table('finish_option_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finish_option_prices_option_id'), ['option_id'], unique=False)

    op.create_table('selection_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('option_price_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('chosen_at', portal.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chosen_by_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id'], name=op.f('fk_selection_lines_chosen_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['finish_items.id'], name=op.f('fk_selection_lines_item_id_finish_items')),
    sa.ForeignKeyConstraint(['option_id'], ['finish_options.id'], name=op.f('fk_selection_lines_option_id_finish_options')),
    sa.ForeignKeyConstraint(['option_price_id'], ['finish_option_prices.id'], name=op.f('fk_selection_lines_option_price_id_finish_option_prices')),
    sa.ForeignKeyConstraint(['selection_id'], ['selections.id'], name=op.f('fk_selection_lines_selection_id_selections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selection_lines')),
    sa.UniqueConstraint('selection_id', 'item_id', name=op.f('uq_selection_lines_selection_id_item_id'))
    )

    with op.batch_alter_table('selection_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_selection_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_selection_lines_option_id'), ['option_id'], unique=False)


def downgrade():
    op.drop_table('selection_lines')
    op.drop_table('finish_option_prices')
    op.drop_table('finish_option_photos')
    op.drop_table('window_categories')
    op.drop_table('selections')
    op.drop_table('finish_options')
    op.drop_table('finish_item_typologies')
    op.drop_table('personalization_windows')
    op.drop_table('finish_items')
    op.drop_table('buyer_profiles')
    op.drop_table('buyer_keys')
    op.drop_table('finish_categories')
    op.drop_table('buyer_profile_fields')
