"""appointments

Revision ID: j1a0appoint00001
Revises: i1a0sign00000001
"""
from alembic import op
import sqlalchemy as sa
import portal.dbtypes


revision = 'j1a0appoint00001'
down_revision = 'i1a0sign00000001'
branch_labels = None
depends_on = None


def upgrade():
    T = portal.dbtypes.UTCDateTime
    op.create_table(
        "appointment_settings",
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
    )
    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("starts_at", T(), nullable=False),
        sa.Column("ends_at", T(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("video_url", sa.String(500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", T(), nullable=True),
        sa.Column("cancel_reason", sa.String(255), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_appointment_slots_seats"),
        sa.CheckConstraint("capacity >= 1", name="ck_appointment_slots_capacity"),
    )
    op.create_index("ix_appointment_slots_starts_at", "appointment_slots", ["starts_at"])
    op.create_index("ix_appointment_slots_development_starts", "appointment_slots", ["development_id", "starts_at"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("development_id", sa.Integer(), sa.ForeignKey("developments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("appointment_slots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(500), nullable=False),
        sa.Column("booked_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("cancelled_at", T(), nullable=True),
        sa.Column("cancel_reason", sa.String(255), nullable=True),
        sa.Column("marked_at", T(), nullable=True),
        sa.Column("marked_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
    )
    for col in ("unit_id", "development_id", "slot_id"):
        op.create_index(f"ix_appointments_{col}", "appointments", [col])
    active = sa.text("status = 'booked'")
    op.create_index("uq_appointments_active_unit", "appointments", ["unit_id"], unique=True,
                    sqlite_where=active, postgresql_where=active)


def downgrade():
    op.drop_index("uq_appointments_active_unit", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
    op.drop_table("appointment_settings")
