"""Response SLAs: first response after assignment and time in stage, on the business calendar.

The sweep reads the partial indexes ix_leads_sla_due / ix_leads_stage_due, which hold only open
clocks that have not breached: its cost follows the leads that are due, not the table size.
"""
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.automation.calendar import get_calendar
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import SLA_OPEN, STAGE_OPEN, Lead
from portal.presales.services.leads import add_narrative

DUE_SOON = timedelta(minutes=15)
SLA_STATES = {"on_time": "No prazo", "due_soon": "Vence em breve", "breached": "Estourado", "done": "Respondido"}


def stage_due(stage, entered: datetime) -> datetime | None:
    if not stage.max_minutes:
        return None
    return get_calendar().add_business_minutes(entered, stage.max_minutes)


def sla_state(lead: Lead, now: datetime | None = None) -> str | None:
    """First-response state for cards and lists; None when the lead has no SLA clock."""
    now = now or utcnow()
    if lead.first_response_due is None:
        return None
    if lead.first_response_at is not None:
        return "breached" if lead.first_response_at > lead.first_response_due else "done"
    if lead.sla_breached_at is not None or now >= lead.first_response_due:
        return "breached"
    return "due_soon" if lead.first_response_due - now <= DUE_SOON else "on_time"


def sweep(now: datetime | None = None, limit: int = 1000) -> dict:
    """Mark breached clocks once and publish lead.sla_breached (rules alert owner and manager)."""
    now = now or utcnow()
    first = db.session.execute(select(Lead).where(db.text(SLA_OPEN), Lead.first_response_due <= now)
                               .order_by(Lead.first_response_due).limit(limit)).scalars().all()
    for lead in first:
        lead.sla_breached_at = now
        add_narrative(lead, "system", "SLA de primeira resposta estourado")
        db.session.flush()
        publish("lead.sla_breached", lead, kind="first_response", due=lead.first_response_due)
    staged = db.session.execute(select(Lead).where(db.text(STAGE_OPEN), Lead.stage_due_at <= now)
                                .order_by(Lead.stage_due_at).limit(limit)).scalars().all()
    for lead in staged:
        lead.stage_breached_at = now
        add_narrative(lead, "system", f"Tempo máximo na etapa “{lead.stage.name}” estourado")
        db.session.flush()
        publish("lead.sla_breached", lead, kind="stage", due=lead.stage_due_at, stage=lead.stage.name)
    db.session.commit()
    return {"first_response": len(first), "stage": len(staged)}
