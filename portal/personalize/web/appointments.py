"""Appointments: staff availability per development, the staff agenda (day/week) and the buyer's booking page.

Scope as everywhere: a buyer reaches only their own units, staff only their developments (404 outside).
The buyer page is the same for staff acting on the buyer's behalf; staff are not held to the cut-off
when they move or cancel, but a seat is always taken through the same conditional UPDATE.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.automation.models import Delivery, Event
from portal.automation.subjects import EVENT_TYPES
from portal.automation.timeline import Entry
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.appointments import Appointment, AppointmentSlot
from portal.personalize.services import appointments as service
from portal.personalize.services.appointment_messages import ics_text
from portal.personalize.services.common import local_tz
from portal.personalize.views import PEOPLE, STAFF, bp, my_units
from portal.personalize.web.staff import development_or_404
from portal.realestate.models import Development, Unit
from portal.web.urls import local_path

WEEKDAY_NAMES = ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"]


def day_label(value) -> str:
    day = value.astimezone(local_tz()).date() if isinstance(value, datetime) else value
    return f"{WEEKDAY_NAMES[day.weekday()]}, {day:%d/%m}"


def hm(value: datetime) -> str:
    return value.astimezone(local_tz()).strftime("%H:%M")


@bp.app_template_global()
def next_appointment(unit):
    """For the unit page's card: the unit's active appointment, or None."""
    return service.active_appointment(unit)


@bp.context_processor
def appointment_helpers():
    return {"day_label": day_label, "hm": hm, "weekday_short": lambda day: service.WEEKDAYS[day.weekday()]}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=local_tz()).astimezone(timezone.utc)


def _errors_of(exc: ServiceError) -> dict:
    return dict(exc.errors)


# ---- staff: availability of a development ---------------------------------------------------------------

def _upcoming(d: Development) -> list[AppointmentSlot]:
    since = utcnow() - timedelta(days=1)
    return db.session.execute(select(AppointmentSlot).where(AppointmentSlot.development_id == d.id,
                                                            AppointmentSlot.starts_at >= since)
                              .order_by(AppointmentSlot.starts_at, AppointmentSlot.id).limit(300)).scalars().all()


def _availability(d: Development, form=None, errors=None, settings_errors=None, status=200):
    today = datetime.now(local_tz()).date()
    defaults = {"date_from": today + timedelta(days=1), "date_to": today + timedelta(days=14),
                "weekdays": ["0", "1", "2", "3", "4"], "times": "09:00, 10:30, 14:00, 15:30", "duration": "60",
                "capacity": "2", "place": "", "video_url": ""}
    return render_template("personalize/appointments/availability.html", d=d, slots=_upcoming(d),
                           form=form or defaults, errors=errors or {}, settings_errors=settings_errors or {},
                           cutoff=service.cutoff_hours(d.id), weekdays=service.WEEKDAYS, tab="appointments"), status


@bp.route("/empreendimentos/<int:development_id>/atendimentos", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_slots(development_id):
    d = development_or_404(development_id)
    if request.method == "GET":
        return _availability(d)
    data = {k: request.form.get(k, "") for k in ("date_from", "date_to", "times", "duration", "capacity", "place",
                                                 "video_url")}
    data["weekdays"] = request.form.getlist("weekdays")
    try:
        created, skipped = service.create_slots(d, data, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _availability(d, form=data, errors=_errors_of(exc), status=422)
    db.session.commit()
    flash(f"{len(created)} horário(s) publicado(s)" + (f"; {skipped} já existia(m)." if skipped else "."), "success")
    return redirect(url_for(".appointment_slots", development_id=d.id))


@bp.route("/empreendimentos/<int:development_id>/atendimentos/config", methods=["POST"])
@roles_required(*STAFF)
def appointment_settings(development_id):
    d = development_or_404(development_id)
    try:
        service.save_settings(d, request.form)
    except ServiceError as exc:
        db.session.rollback()
        return _availability(d, settings_errors=_errors_of(exc), status=422)
    db.session.commit()
    flash("Antecedência mínima salva.", "success")
    return redirect(url_for(".appointment_slots", development_id=d.id))


def _slot(d: Development, slot_id) -> AppointmentSlot:
    slot = get_scoped_or_404(current_user, AppointmentSlot, slot_id)
    if slot.development_id != d.id:
        abort(404)
    return slot


def _slot_form(slot: AppointmentSlot) -> dict:
    start = slot.starts_at.astimezone(local_tz())
    return {"date": start.strftime("%Y-%m-%d"), "start": start.strftime("%H:%M"), "end": hm(slot.ends_at),
            "capacity": str(slot.capacity), "place": slot.place, "video_url": slot.video_url}


@bp.route("/empreendimentos/<int:development_id>/atendimentos/horarios/<int:slot_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_slot(development_id, slot_id):
    d = development_or_404(development_id)
    slot = _slot(d, slot_id)
    form, errors, status = _slot_form(slot), {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("date", "start", "end", "capacity", "place", "video_url")}
        try:
            service.update_slot(slot, form, current_user)
        except ServiceError as exc:
            db.session.rollback()
            errors, status = _errors_of(exc), 422
            slot = _slot(d, slot_id)
        else:
            db.session.commit()
            flash("Horário salvo. Quem já agendou é avisado se a data ou a hora mudou.", "success")
            return redirect(url_for(".appointment_slots", development_id=d.id))
    appointments = db.session.execute(select(Appointment).where(Appointment.slot_id == slot.id)
                                      .order_by(Appointment.id)).scalars().all()
    return render_template("personalize/appointments/slot.html", d=d, slot=slot, form=form, errors=errors,
                           appointments=appointments, tab="appointments"), status


@bp.route("/empreendimentos/<int:development_id>/atendimentos/horarios/<int:slot_id>/cancelar", methods=["POST"])
@roles_required(*STAFF)
def appointment_slot_cancel(development_id, slot_id):
    d = development_or_404(development_id)
    slot = _slot(d, slot_id)
    try:
        count = service.cancel_slot(slot, request.form.get("reason"), current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".appointment_slot", development_id=d.id, slot_id=slot_id))
    db.session.commit()
    flash(f"Horário cancelado. {count} comprador(es) agendado(s) foram avisados." if count else "Horário cancelado.",
          "success")
    return redirect(url_for(".appointment_slots", development_id=d.id))


# ---- staff: agenda by day / week --------------------------------------------------------------------------

@dataclass
class AgendaDay:
    day: date
    slots: list = field(default_factory=list)


def agenda(user, first: date, days: int, development_id: int | None = None) -> list[AgendaDay]:
    stmt = (scoped(user, AppointmentSlot).where(AppointmentSlot.starts_at >= _local_midnight(first),
                                                AppointmentSlot.starts_at < _local_midnight(first + timedelta(days=days)))
            .options(selectinload(AppointmentSlot.appointments).selectinload(Appointment.unit)
                     .options(selectinload(Unit.tower), selectinload(Unit.buyers)),
                     selectinload(AppointmentSlot.development))
            .order_by(AppointmentSlot.starts_at, AppointmentSlot.id))
    if development_id:
        stmt = stmt.where(AppointmentSlot.development_id == development_id)
    out = {first + timedelta(days=n): AgendaDay(first + timedelta(days=n)) for n in range(days)}
    for slot in db.session.execute(stmt).scalars():
        out[slot.starts_at.astimezone(local_tz()).date()].slots.append(slot)
    return list(out.values())


def _parse_day(value) -> date:
    try:
        return datetime.strptime(str(value or ""), "%Y-%m-%d").date()
    except ValueError:
        return datetime.now(local_tz()).date()


@bp.route("/agenda")
@roles_required(*STAFF)
def appointment_agenda():
    view = "semana" if request.args.get("visao") == "semana" else "dia"
    day = _parse_day(request.args.get("data"))
    first = day - timedelta(days=day.weekday()) if view == "semana" else day
    span = 7 if view == "semana" else 1
    developments = db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()
    dev_id = request.args.get("empreendimento", type=normalize.row_id)
    if dev_id and dev_id not in {d.id for d in developments}:
        abort(404)
    days = agenda(current_user, first, span, dev_id)
    return render_template("personalize/appointments/agenda.html", days=days, view=view, day=day, first=first,
                           span=span, developments=developments, dev_id=dev_id, now=utcnow(),
                           prev=first - timedelta(days=span), next=first + timedelta(days=span))


@bp.route("/agenda/atendimentos/<int:appointment_id>/marcar", methods=["POST"])
@roles_required(*STAFF)
def appointment_mark(appointment_id):
    appointment = get_scoped_or_404(current_user, Appointment, appointment_id)
    try:
        service.mark(appointment, request.form.get("outcome"), current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
    else:
        db.session.commit()
        flash(f"Registrado: {appointment.status_label.lower()}.", "success")
    return redirect(local_path(request.form.get("next")) or url_for(".appointment_agenda"))


# ---- the unit's appointment: buyer (and staff on their behalf) ----------------------------------------------

def unit_history(unit: Unit, limit: int = 100) -> list[Entry]:
    """Every appointment event and message of the unit, newest first (the unit's appointment timeline)."""
    ids = select(Appointment.id).where(Appointment.unit_id == unit.id)
    events = db.session.execute(select(Event).where(Event.subject_type == "appointment", Event.subject_id.in_(ids))
                                .order_by(Event.created_at.desc()).limit(limit)).scalars()
    deliveries = db.session.execute(select(Delivery).where(Delivery.subject_type == "appointment",
                                                           Delivery.subject_id.in_(ids))
                                    .order_by(Delivery.created_at.desc()).limit(limit)).scalars()
    entries = [Entry(e.created_at, "event", EVENT_TYPES.get(e.type, (None, e.type))[1],
                     body=" · ".join(str(v) for k, v in (e.payload or {}).items() if k in ("when", "previous", "reason")
                                     and v), actor=e.actor.name if e.actor else None) for e in events]
    entries += [Entry(d.created_at, "message", f"{d.channel_label} para {d.recipient_name or d.recipient}",
                      body=d.subject or d.body[:200], status=d.status_label) for d in deliveries]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


def _is_staff() -> bool:
    return current_user.role != "customer"


def _picked_day(days: dict) -> date | None:
    """The day whose slots the page lists (`?dia=`, kept through a refused post): a phone shows one day's
    slots under a day picker instead of every slot of the coming weeks."""
    try:
        wanted = datetime.strptime(str(request.values.get("dia") or ""), "%Y-%m-%d").date()
    except ValueError:
        wanted = None
    return wanted if wanted in days else next(iter(days), None)


def _unit_page(unit: Unit, errors=None, status=200):
    active = service.active_appointment(unit)
    slots = service.bookable_slots(unit)
    days: dict = {}
    for slot in slots:
        if active is not None and slot.id == active.slot_id:
            continue
        days.setdefault(slot.starts_at.astimezone(local_tz()).date(), []).append(slot)
    context = {"unit": unit, "active": active, "days": days, "picked": _picked_day(days), "errors": errors or {},
               "can_change": bool(active and (_is_staff() or service.can_change(active))),
               "cutoff": service.cutoff_hours(unit.development_id), "staff": _is_staff(),
               "past": [a for a in service.unit_appointments(unit) if a.status != "booked"][:5]}
    if _is_staff():
        context["history"] = unit_history(unit)
    else:
        context["units"] = my_units()
    return render_template("personalize/appointments/unit.html", **context), status


def _unit(unit_id) -> Unit:
    return get_scoped_or_404(current_user, Unit, unit_id)


@bp.route("/unidades/<int:unit_id>/atendimento", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def unit_appointment(unit_id):
    unit = _unit(unit_id)
    if request.method == "GET":
        return _unit_page(unit)
    active = service.active_appointment(unit)
    try:
        if active is None:
            service.book(unit, request.form.get("slot_id"), current_user, notes=request.form.get("notes", ""))
            message = "Atendimento agendado! Enviamos a confirmação por e-mail, com o convite para a sua agenda."
        else:
            service.reschedule(active, request.form.get("slot_id"), current_user, staff=_is_staff())
            message = "Atendimento remarcado. Enviamos o novo horário por e-mail."
    except ServiceError as exc:
        db.session.rollback()
        return _unit_page(unit, errors=_errors_of(exc), status=409 if "slot" in exc.errors else 422)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".unit_appointment", unit_id=unit.id))


@bp.route("/unidades/<int:unit_id>/atendimento/cancelar", methods=["POST"])
@roles_required(*PEOPLE)
def unit_appointment_cancel(unit_id):
    unit = _unit(unit_id)
    active = service.active_appointment(unit)
    if active is None:
        flash("Não há atendimento agendado para esta unidade.", "info")
        return redirect(url_for(".unit_appointment", unit_id=unit.id))
    try:
        service.cancel(active, current_user, request.form.get("reason", ""), staff=_is_staff())
    except ServiceError as exc:
        db.session.rollback()
        return _unit_page(unit, errors=_errors_of(exc), status=409)
    db.session.commit()
    flash("Atendimento cancelado. Você pode agendar outro horário quando quiser.", "success")
    return redirect(url_for(".unit_appointment", unit_id=unit.id))


@bp.route("/unidades/<int:unit_id>/atendimento/<int:appointment_id>.ics")
@roles_required(*PEOPLE)
def unit_appointment_ics(unit_id, appointment_id):
    unit = _unit(unit_id)
    appointment = get_scoped_or_404(current_user, Appointment, appointment_id)
    if appointment.unit_id != unit.id:
        abort(404)
    return Response(ics_text(appointment), mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="atendimento.ics"',
                             "Cache-Control": "private, no-store"})
