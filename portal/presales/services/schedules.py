"""Agendamentos (visit, call back) and the agenda."""
from datetime import datetime

from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, Schedule
from portal.web.filters import datetime_br

SCHEDULE_KINDS = {"call": "Retorno por telefone", "visit": "Visita", "meeting": "Reunião"}


def refresh_next(lead: Lead) -> None:
    lead.next_scheduled_at = db.session.scalar(select(func.min(Schedule.scheduled_at)).where(
        Schedule.lead_id == lead.id, Schedule.done_at.is_(None)))
    from portal.automation.engine import schedule as schedule_rules
    schedule_rules(lead)  # rules may remind "1 hour before next_scheduled_at"


def add_schedule(lead: Lead, actor, kind: str, when: datetime | None, note: str = "") -> Schedule:
    from portal.presales.services.leads import add_narrative
    errors = {}
    if kind not in SCHEDULE_KINDS:
        errors["schedule_kind"] = "Escolha o tipo de agendamento."
    if when is None:
        errors["scheduled_at"] = "Informe data e hora do agendamento."
    elif when <= utcnow():
        errors["scheduled_at"] = "O agendamento precisa ser no futuro."
    if errors:
        raise ServiceError(errors)
    item = Schedule(lead_id=lead.id, owner_id=lead.owner_id or actor.id, kind=kind, scheduled_at=when, note=note)
    db.session.add(item)
    db.session.flush()
    add_narrative(lead, "system", f"Agendado: {SCHEDULE_KINDS[kind]} em {datetime_br(when)}" + (f" — {note}" if note else ""),
                  author=actor, schedule_id=item.id)
    refresh_next(lead)
    publish("lead.scheduled", lead, actor=actor, kind=kind, at=when)
    return item


def complete_schedule(item: Schedule, actor, note: str = "") -> Schedule:
    from portal.presales.services.leads import add_narrative
    if item.done_at is None:
        item.done_at = utcnow()
        add_narrative(item.lead, "system", f"Agendamento concluído: {SCHEDULE_KINDS.get(item.kind, item.kind)}"
                      + (f" — {note}" if note else ""), author=actor, schedule_id=item.id)
        db.session.flush()
        refresh_next(item.lead)
    return item
