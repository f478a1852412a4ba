"""Appointment slots: staff publish availability (many slots at once), edit or withdraw one slot.

Split from services.appointments (which re-exports these names): a moved slot moves its bookings and a
withdrawn one cancels them, always on the slot row locked first (see the guarantees there).
"""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.engine import schedule
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.appointments import Appointment, AppointmentSlot
from portal.personalize.services.common import field, local_tz, parse_text, parse_url
from portal.realestate.models import Development

MAX_SLOTS_PER_BATCH = 500
MAX_RANGE_DAYS = 92


# ---- publishing slots -----------------------------------------------------------------------------

def _parse_date(value, what: str) -> date:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"Informe {what} (dd/mm/aaaa)." if not text else "Data inválida: use dd/mm/aaaa.")


def _parse_time(value) -> time:
    text = str(value or "").strip().lower().replace("h", ":").rstrip(":")
    if text.isdigit():
        text += ":00"
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError as exc:
        raise ValueError(f"Horário inválido: “{value}”. Use hh:mm, por exemplo 09:30.") from exc


def _parse_times(value) -> list[time]:
    parts = [p for p in str(value or "").replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("Informe ao menos um horário de início (ex.: 09:00, 10:30, 14:00).")
    return sorted({_parse_time(p) for p in parts})


def _parse_int(value, what: str, low: int, high: int) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"Informe {what} entre {low} e {high}.")
    return int(text)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=local_tz()).astimezone(timezone.utc)


def _where(errors: dict, data: dict) -> tuple[str, str]:
    place = field(errors, "place", parse_text, data.get("place"), "o local", 200, False) or ""
    video = field(errors, "video_url", parse_url, data.get("video_url")) or ""
    if not place and not video and "place" not in errors and "video_url" not in errors:
        errors["place"] = "Informe o local do atendimento ou um link de vídeo."
    return place, video


def create_slots(development: Development, data: dict, user=None, now: datetime | None = None
                 ) -> tuple[list[AppointmentSlot], int]:
    """Many slots at once: every chosen weekday of the date range, at every start time.
    Returns (created, skipped); a start the development already offers is skipped, so posting twice is safe."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    first = field(errors, "date_from", _parse_date, data.get("date_from"), "a data inicial")
    last = field(errors, "date_to", _parse_date, data.get("date_to") or data.get("date_from"), "a data final")
    if first and last and last < first:
        errors["date_to"] = "A data final precisa ser igual ou depois da inicial."
    elif first and last and (last - first).days > MAX_RANGE_DAYS:
        errors["date_to"] = f"Publique no máximo {MAX_RANGE_DAYS} dias de cada vez."
    weekdays = {d for d in map(normalize.row_id, data.get("weekdays") or []) if d is not None and d <= 6}
    if not weekdays:
        errors["weekdays"] = "Marque ao menos um dia da semana."
    starts = field(errors, "times", _parse_times, data.get("times"))
    duration = field(errors, "duration", _parse_int, data.get("duration"), "a duração em minutos", 10, 480)
    capacity = field(errors, "capacity", _parse_int, data.get("capacity"), "as vagas por horário", 1, 200)
    place, video = _where(errors, data)
    if errors:
        raise ServiceError(errors)
    wanted = []
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            wanted += [_local(day, at) for at in starts if _local(day, at) > now]
        day += timedelta(days=1)
    if not wanted:
        raise ServiceError({"date_from": "Nenhum horário futuro nesse período e dias da semana."})
    if len(wanted) > MAX_SLOTS_PER_BATCH:
        raise ServiceError({"times": f"Isso criaria {len(wanted)} horários; publique no máximo "
                                     f"{MAX_SLOTS_PER_BATCH} de cada vez."})
    existing = set(db.session.execute(select(AppointmentSlot.starts_at).where(
        AppointmentSlot.development_id == development.id, AppointmentSlot.cancelled_at.is_(None),
        AppointmentSlot.starts_at.in_(wanted))).scalars())
    created = []
    for starts_at in wanted:
        if starts_at in existing:
            continue
        slot = AppointmentSlot(development_id=development.id, starts_at=starts_at,
                               ends_at=starts_at + timedelta(minutes=duration), place=place, video_url=video,
                               capacity=capacity, booked=0, created_by_id=getattr(user, "id", None))
        db.session.add(slot)
        created.append(slot)
    db.session.flush()
    audit("appointment.slots_created", development, created=len(created), skipped=len(wanted) - len(created),
          date_from=first.isoformat(), date_to=last.isoformat(), capacity=capacity)
    from portal.personalize.services.appointment_messages import ensure_default_rules
    ensure_default_rules()
    return created, len(wanted) - len(created)


def _booked_appointments(slot: AppointmentSlot) -> list[Appointment]:
    return db.session.execute(select(Appointment).where(Appointment.slot_id == slot.id,
                                                        Appointment.status == "booked")
                              .order_by(Appointment.id)).scalars().all()


def _lock(slot: AppointmentSlot) -> AppointmentSlot:
    return db.session.execute(select(AppointmentSlot).where(AppointmentSlot.id == slot.id)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


def update_slot(slot: AppointmentSlot, data: dict, user=None) -> AppointmentSlot:
    """Edit one slot. Moving a slot with bookings moves its appointments (the buyers are told)."""
    if slot.cancelled_at is not None:
        raise ServiceError({"date": "Este horário foi cancelado e não pode ser editado."})
    errors: dict[str, str] = {}
    day = field(errors, "date", _parse_date, data.get("date"), "a data")
    start = field(errors, "start", _parse_time, data.get("start"))
    end = field(errors, "end", _parse_time, data.get("end"))
    capacity = field(errors, "capacity", _parse_int, data.get("capacity"), "as vagas", 1, 200)
    place, video = _where(errors, data)
    if start and end and end <= start:
        errors["end"] = "O término precisa ser depois do início."
    if errors:
        raise ServiceError(errors)
    slot = _lock(slot)
    if capacity < slot.booked:
        raise ServiceError({"capacity": f"Este horário já tem {slot.booked} agendamento(s): as vagas não podem "
                                        "ficar abaixo disso."})
    starts_at, ends_at = _local(day, start), _local(day, end)
    old_when = slot.starts_at
    moved = starts_at != slot.starts_at or ends_at != slot.ends_at
    slot.starts_at, slot.ends_at, slot.capacity, slot.place, slot.video_url = starts_at, ends_at, capacity, place, video
    db.session.flush()
    audit("appointment.slot_updated", slot, starts_at=starts_at.isoformat(), capacity=capacity)
    if moved:
        from portal.web.filters import datetime_br
        for appointment in _booked_appointments(slot):
            appointment.sequence += 1
            publish("appointment.rescheduled", appointment, actor=user, by="staff",
                    previous=datetime_br(old_when), when=appointment.when_label)
            schedule(appointment)
    return slot


def cancel_slot(slot: AppointmentSlot, reason: str, user=None) -> int:
    """Staff withdraw a slot: its appointments are cancelled (and the buyers told). Returns how many."""
    reason = " ".join(str(reason or "").split())[:255]
    if not reason:
        raise ServiceError({"reason": "Informe o motivo do cancelamento (os compradores agendados recebem)."})
    slot = _lock(slot)
    if slot.cancelled_at is not None:
        return 0
    appointments = _booked_appointments(slot)
    now = utcnow()
    for appointment in appointments:
        appointment.status, appointment.cancelled_at = "cancelled", now
        appointment.cancel_reason = f"Horário cancelado pela equipe: {reason}"[:255]
        publish("appointment.cancelled", appointment, actor=user, by="staff", reason=reason)
    db.session.flush()
    for appointment in appointments:
        schedule(appointment)
    slot.cancelled_at, slot.cancel_reason, slot.booked = now, reason, 0
    db.session.flush()
    audit("appointment.slot_cancelled", slot, reason=reason, appointments=len(appointments))
    return len(appointments)
