"""Appointments: staff publish slots, buyers book / reschedule / cancel one seat for their unit.

What the database guarantees (never check-then-insert):
- a seat is taken by `UPDATE appointment_slots SET booked = booked + 1 WHERE booked < capacity AND not
  cancelled AND starts_at > now + cut-off`: concurrent bookings of the last seat serialize on the row
  and only as many as the capacity succeed; the cut-off is checked in the same statement;
- one active appointment per unit is a partial unique index: a second booking for the unit fails on
  insert and its savepoint gives the seat back;
- an appointment changes state by a conditional UPDATE on its current state, so a reschedule racing a
  cancel ends in one of them, never both. Slot rows are always locked in id order (no deadlocks).
Every change publishes an event (timeline + rules) and re-arms the reminder (engine.schedule).
"""
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.engine import schedule
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.appointments import (DEFAULT_CUTOFF_HOURS, Appointment, AppointmentSettings,
                                             AppointmentSlot)
from portal.personalize.services.appointment_slots import (MAX_RANGE_DAYS, MAX_SLOTS_PER_BATCH,  # noqa: F401
                                                            cancel_slot, create_slots, update_slot)
from portal.personalize.services.common import local_tz
from portal.realestate.models import Development, Unit

BOOKING_HORIZON_DAYS = 60
WEEKDAYS = ["Seg", "Ter", "Qua", "Qui", "Sex", "Sáb", "Dom"]

ALREADY_BOOKED = "Esta unidade já tem um atendimento agendado. Remarque ou cancele o atual."
FULL = "Este horário acabou de lotar. Escolha outro horário."
SLOT_CANCELLED = "Este horário foi cancelado pela equipe. Escolha outro horário."
CHANGED = "O atendimento mudou enquanto você decidia. Confira a situação e tente de novo."


def cutoff_message(hours: int) -> str:
    return (f"Agendamentos, remarcações e cancelamentos pelo portal precisam de pelo menos {hours} horas de "
            "antecedência. Para um horário mais próximo, fale com a equipe da construtora.")


# ---- settings --------------------------------------------------------------------------------------

def cutoff_hours(development_id: int) -> int:
    row = db.session.get(AppointmentSettings, development_id)
    return row.cutoff_hours if row is not None else DEFAULT_CUTOFF_HOURS


def save_settings(development: Development, data: dict) -> AppointmentSettings:
    raw = str(data.get("cutoff_hours") or "").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 720:
        raise ServiceError({"cutoff_hours": "Informe um número inteiro de horas entre 0 e 720."})
    row = db.session.get(AppointmentSettings, development.id) or AppointmentSettings(development_id=development.id)
    row.cutoff_hours = int(raw)
    db.session.add(row)
    db.session.flush()
    audit("appointment.settings", development, cutoff_hours=row.cutoff_hours)
    return row


# ---- what buyers see --------------------------------------------------------------------------------

def active_appointment(unit: Unit) -> Appointment | None:
    return db.session.execute(select(Appointment).where(Appointment.unit_id == unit.id,
                                                        Appointment.status == "booked")).scalar_one_or_none()


def unit_appointments(unit: Unit) -> list[Appointment]:
    return db.session.execute(select(Appointment).where(Appointment.unit_id == unit.id)
                              .options(selectinload(Appointment.slot))
                              .order_by(Appointment.created_at.desc(), Appointment.id.desc())).scalars().all()


def bookable_slots(unit: Unit, now: datetime | None = None) -> list[AppointmentSlot]:
    """Slots the buyer may pick now: the unit's development, beyond the cut-off, with a free seat."""
    now = now or utcnow()
    limit = now + timedelta(hours=cutoff_hours(unit.development_id))
    return db.session.execute(select(AppointmentSlot).where(
        AppointmentSlot.development_id == unit.development_id, AppointmentSlot.cancelled_at.is_(None),
        AppointmentSlot.starts_at > limit, AppointmentSlot.starts_at < now + timedelta(days=BOOKING_HORIZON_DAYS),
        AppointmentSlot.booked < AppointmentSlot.capacity).order_by(AppointmentSlot.starts_at, AppointmentSlot.id)
    ).scalars().all()


def can_change(appointment: Appointment, now: datetime | None = None) -> bool:
    """The buyer may still reschedule or cancel it from the portal (outside the cut-off)."""
    now = now or utcnow()
    return (appointment.status == "booked" and appointment.slot.starts_at
            > now + timedelta(hours=cutoff_hours(appointment.development_id)))


# ---- seats ---------------------------------------------------------------------------------------------

def _slot_of(unit: Unit, slot_id) -> AppointmentSlot:
    slot = db.session.get(AppointmentSlot, normalize.row_id(slot_id) or 0)
    if slot is None or slot.development_id != unit.development_id:
        raise ServiceError({"slot": "Escolha um dos horários disponíveis."})
    return slot


def _take_seat(slot: AppointmentSlot, now: datetime) -> None:
    hours = cutoff_hours(slot.development_id)
    taken = db.session.execute(
        update(AppointmentSlot).where(AppointmentSlot.id == slot.id, AppointmentSlot.cancelled_at.is_(None),
                                      AppointmentSlot.booked < AppointmentSlot.capacity,
                                      AppointmentSlot.starts_at > now + timedelta(hours=hours))
        .values(booked=AppointmentSlot.booked + 1).execution_options(synchronize_session=False)).rowcount
    db.session.expire(slot)
    if taken == 1:
        return
    if slot.cancelled_at is not None:
        raise ServiceError({"slot": SLOT_CANCELLED})
    if slot.starts_at <= now + timedelta(hours=hours):
        raise ServiceError({"slot": cutoff_message(hours)})
    raise ServiceError({"slot": FULL})


def _release_seat(slot_id: int) -> None:
    db.session.execute(update(AppointmentSlot).where(AppointmentSlot.id == slot_id, AppointmentSlot.booked > 0)
                       .values(booked=AppointmentSlot.booked - 1).execution_options(synchronize_session=False))


# ---- booking, rescheduling, cancelling ------------------------------------------------------------------

def book(unit: Unit, slot_id, user, notes: str = "", now: datetime | None = None) -> Appointment:
    now = now or utcnow()
    slot = _slot_of(unit, slot_id)
    if active_appointment(unit) is not None:
        raise ServiceError({"slot": ALREADY_BOOKED})
    try:
        with db.session.begin_nested():
            _take_seat(slot, now)
            appointment = Appointment(unit_id=unit.id, development_id=unit.development_id, slot_id=slot.id,
                                      status="booked", sequence=0, notes=" ".join(str(notes or "").split())[:500],
                                      booked_by_id=getattr(user, "id", None))
            db.session.add(appointment)
            db.session.flush()
    except IntegrityError:  # another booking for this unit won: its savepoint gave our seat back
        raise ServiceError({"slot": ALREADY_BOOKED}) from None
    publish("appointment.booked", appointment, actor=user, when=appointment.when_label,
            where=appointment.where_label)
    schedule(appointment)
    audit("appointment.booked", appointment, unit_id=unit.id, slot_id=slot.id)
    return appointment


def _check_cutoff(appointment: Appointment, now: datetime, staff: bool) -> None:
    if not staff and not can_change(appointment, now):
        raise ServiceError({"slot": cutoff_message(cutoff_hours(appointment.development_id))})


def reschedule(appointment: Appointment, slot_id, user, now: datetime | None = None, staff: bool = False
               ) -> Appointment:
    now = now or utcnow()
    if appointment.status != "booked":
        raise ServiceError({"slot": CHANGED})
    new = _slot_of(appointment.unit, slot_id)
    if new.id == appointment.slot_id:
        raise ServiceError({"slot": "Este já é o horário do seu atendimento. Escolha outro."})
    _check_cutoff(appointment, now, staff)
    old_id, old_label = appointment.slot_id, appointment.when_label
    with db.session.begin_nested():
        claimed = db.session.execute(
            update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked",
                                      Appointment.slot_id == old_id)
            .values(slot_id=new.id, sequence=Appointment.sequence + 1, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise ServiceError({"slot": CHANGED})
        if old_id < new.id:  # slot rows always locked in id order
            _release_seat(old_id)
            _take_seat(new, now)
        else:
            _take_seat(new, now)
            _release_seat(old_id)
    db.session.expire(appointment)
    publish("appointment.rescheduled", appointment, actor=user, by="staff" if staff else "buyer",
            previous=old_label, when=appointment.when_label, where=appointment.where_label)
    schedule(appointment)
    audit("appointment.rescheduled", appointment, from_slot=old_id, to_slot=new.id)
    return appointment


def cancel(appointment: Appointment, user, reason: str = "", now: datetime | None = None, staff: bool = False
           ) -> Appointment:
    now = now or utcnow()
    if appointment.status != "booked":
        raise ServiceError({"slot": CHANGED})
    _check_cutoff(appointment, now, staff)
    reason = " ".join(str(reason or "").split())[:255] or ("Cancelado pela equipe" if staff else
                                                             "Cancelado pelo comprador")
    with db.session.begin_nested():
        claimed = db.session.execute(
            update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
            .values(status="cancelled", cancelled_at=now, cancel_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise ServiceError({"slot": CHANGED})
        _release_seat(appointment.slot_id)
    db.session.expire(appointment)
    publish("appointment.cancelled", appointment, actor=user, by="staff" if staff else "buyer", reason=reason)
    schedule(appointment)
    audit("appointment.cancelled", appointment, reason=reason)
    return appointment


OUTCOMES = {"attended": "appointment.attended", "no_show": "appointment.no_show"}


def mark(appointment: Appointment, outcome: str, user, now: datetime | None = None) -> Appointment:
    """Staff record whether the buyer came (from the slot's start on; a wrong mark can be switched)."""
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise ServiceError({"outcome": "Escolha compareceu ou não compareceu."})
    if appointment.status not in ("booked", "attended", "no_show") or appointment.status == outcome:
        raise ServiceError({"outcome": CHANGED})
    if appointment.slot.starts_at > now:
        raise ServiceError({"outcome": "O comparecimento só pode ser registrado a partir do início do horário."})
    claimed = db.session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == appointment.status)
        .values(status=outcome, marked_at=now, marked_by_id=getattr(user, "id", None), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ServiceError({"outcome": CHANGED})
    db.session.expire(appointment)
    publish(OUTCOMES[outcome], appointment, actor=user)
    schedule(appointment)
    audit(OUTCOMES[outcome], appointment)
    return appointment


def load_demo_slots(slug: str = "jardim-das-acacias") -> None:
    """Demo: two weeks of weekday slots at the demo development's sales stand, two of them booked
    (João, the demo buyer, is left free to book his own). Idempotent."""
    from portal.realestate.models import UnitBuyer
    development = db.session.execute(select(Development).where(Development.slug == slug)).scalar_one_or_none()
    if development is None or db.session.execute(select(AppointmentSlot.id).where(
            AppointmentSlot.development_id == development.id)).first():
        return
    today = datetime.now(local_tz()).date()
    created, _ = create_slots(development, {
        "date_from": (today + timedelta(days=1)).isoformat(), "date_to": (today + timedelta(days=14)).isoformat(),
        "weekdays": ["0", "1", "2", "3", "4", "5"], "times": "09:00, 10:30, 14:00, 15:30", "duration": "60",
        "capacity": "2", "place": "Stand de vendas — Rua das Acácias, 200", "video_url": ""})
    from portal.accounts.models import User
    rows = db.session.execute(select(Unit, User).join(UnitBuyer, UnitBuyer.unit_id == Unit.id)
                              .join(User, User.id == UnitBuyer.user_id)
                              .where(Unit.development_id == development.id).order_by(Unit.id, User.id)).all()
    booked = 0
    for unit, user in rows:
        if booked == 2 or len(created) < 6 or user.email == "cliente@demo.portal" or active_appointment(unit):
            continue
        book(unit, created[4 + booked].id, user)
        booked += 1
