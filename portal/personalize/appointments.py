"""Appointment tables: staff publish slots per development, buyers book one seat for their unit.

The database holds both guarantees: a slot's `booked` counter only moves through a conditional UPDATE
(`booked < capacity`) and a CHECK keeps it within 0..capacity; a partial unique index allows one
active (booked) appointment per unit. A reschedule keeps the appointment row (its reminders and
timeline follow it) and counts `sequence` up, so calendar apps update the same event.
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

APPOINTMENT_STATUSES = {"booked": "Agendado", "cancelled": "Cancelado", "attended": "Compareceu",
                        "no_show": "Não compareceu"}
DEFAULT_CUTOFF_HOURS = 24
_ACTIVE = text("status = 'booked'")


class AppointmentSettings(db.Model):
    """Per development: how many hours before a slot buyers can no longer book, move or cancel it."""
    __tablename__ = "appointment_settings"
    __scope__ = ("development", "development_id")
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), primary_key=True)
    cutoff_hours: Mapped[int] = mapped_column(default=DEFAULT_CUTOFF_HOURS)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AppointmentSlot(TimestampMixin, db.Model):
    """A time staff are available, in person (`place`) and/or by video (`video_url`), for `capacity` units."""
    __tablename__ = "appointment_slots"
    __scope__ = ("development", "development_id")
    __table_args__ = (CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_appointment_slots_seats"),
                      CheckConstraint("capacity >= 1", name="ck_appointment_slots_capacity"),
                      Index("ix_appointment_slots_development_starts", "development_id", "starts_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(default=1)
    booked: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    development = relationship("Development")
    appointments: Mapped[list["Appointment"]] = relationship(back_populates="slot", order_by="Appointment.id")

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def where_label(self) -> str:
        parts = [self.place, "por vídeo" if self.video_url else ""]
        return " · ".join(p for p in parts if p) or "Local a confirmar"

    def __str__(self):
        from portal.web.filters import datetime_br
        return f"Atendimento {datetime_br(self.starts_at)}"


class Appointment(TimestampMixin, db.Model):
    """A unit's seat in a slot: booked → attended / no_show, or cancelled."""
    __tablename__ = "appointments"
    __scope__ = ("unit", "unit_id")
    __table_args__ = (Index("uq_appointments_active_unit", "unit_id", unique=True, sqlite_where=_ACTIVE,
                            postgresql_where=_ACTIVE),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="booked")
    sequence: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(String(500), default="")
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(255))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit = relationship("Unit")
    slot: Mapped[AppointmentSlot] = relationship(back_populates="appointments")
    booked_by = relationship("User", foreign_keys=[booked_by_id])
    marked_by = relationship("User", foreign_keys=[marked_by_id])

    @property
    def status_label(self) -> str:
        return APPOINTMENT_STATUSES.get(self.status, self.status)

    @property
    def starts_at(self) -> datetime | None:
        """The slot's start while the appointment stands: reminder rules anchor here, so a cancelled
        appointment has no date and its reminder is dropped."""
        return self.slot.starts_at if self.status == "booked" and self.slot else None

    @property
    def when_label(self) -> str:
        from portal.web.filters import datetime_br, to_local
        if not self.slot:
            return ""
        return f"{datetime_br(self.slot.starts_at)}–{to_local(self.slot.ends_at):%H:%M}"

    @property
    def where_label(self) -> str:
        return self.slot.where_label if self.slot else ""

    def __str__(self):
        return f"Atendimento {self.when_label}"
