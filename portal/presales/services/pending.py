"""Atender pendentes: the lead a rep should handle now, leased so two reps never get the same one.

Order: overdue agendamentos (oldest first), new leads by first-response due time, stale leads (no
contact for STALE_DAYS), then leads waiting in the rep's online queues (claimed and assigned).
"""
from datetime import timedelta

from sqlalchemy import or_, select, update

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, Offer, QueueMember, Schedule

LEASE = timedelta(minutes=15)
STALE_DAYS = 3


def _lease(lead_id: int, user) -> bool:
    """Conditional UPDATE: only one rep can hold the lead at a time."""
    now = utcnow()
    return db.session.execute(
        update(Lead).where(Lead.id == lead_id, Lead.status == "open",
                           or_(Lead.working_by_id.is_(None), Lead.working_until < now, Lead.working_by_id == user.id))
        .values(working_by_id=user.id, working_until=now + LEASE)).rowcount == 1


def candidates(user, now=None, limit: int = 20):
    """(lead_id, reason) in handling order for `user`."""
    now = now or utcnow()
    free = or_(Lead.working_by_id.is_(None), Lead.working_until < now, Lead.working_by_id == user.id)
    mine = [Lead.owner_id == user.id, Lead.status == "open", free]
    overdue = db.session.execute(
        select(Lead.id).join(Schedule, Schedule.lead_id == Lead.id)
        .where(*mine, Schedule.done_at.is_(None), Schedule.scheduled_at <= now)
        .order_by(Schedule.scheduled_at).limit(limit)).scalars().all()
    fresh = db.session.execute(
        select(Lead.id).where(*mine, Lead.first_response_at.is_(None))
        .order_by(Lead.first_response_due.is_(None), Lead.first_response_due, Lead.created_at).limit(limit)).scalars().all()
    stale_before = now - timedelta(days=STALE_DAYS)
    stale = db.session.execute(
        select(Lead.id).where(*mine, Lead.first_response_at.is_not(None),
                              or_(Lead.last_contact_at < stale_before, Lead.last_contact_at.is_(None)))
        .order_by(Lead.last_contact_at).limit(limit)).scalars().all()
    queues = select(QueueMember.queue_id).where(QueueMember.user_id == user.id, QueueMember.paused.is_(False))
    offered = select(Offer.lead_id).where(Offer.status == "pending")
    waiting = db.session.execute(
        select(Lead.id).where(Lead.owner_id.is_(None), Lead.status == "open", Lead.queue_id.in_(queues),
                              Lead.id.not_in(offered), free)
        .order_by(Lead.created_at).limit(limit)).scalars().all()
    seen, out = set(), []
    for reason, ids in (("overdue", overdue), ("new", fresh), ("stale", stale), ("waiting", waiting)):
        for lead_id in ids:
            if lead_id not in seen:
                seen.add(lead_id)
                out.append((lead_id, reason))
    return out


REASONS = {"overdue": "Agendamento atrasado", "new": "Lead novo aguardando primeiro contato",
           "stale": f"Sem contato há mais de {STALE_DAYS} dias", "waiting": "Aguardando na sua fila"}


def next_lead(user, skip: set[int] = frozenset()):
    """Lease and return (lead, reason) or (None, None). Waiting queue leads are assigned to the rep."""
    from portal.presales.services.distribution import assign
    for lead_id, reason in candidates(user):
        if lead_id in skip or not _lease(lead_id, user):
            continue
        lead = db.session.get(Lead, lead_id)
        db.session.refresh(lead)
        if reason == "waiting":
            if lead.owner_id is not None:
                continue
            assign(lead, user, user, how="atender pendentes")
        return lead, reason
    return None, None


def release(lead: Lead, user) -> None:
    if lead.working_by_id == user.id:
        lead.working_by_id, lead.working_until = None, None


def done_and_next(lead: Lead, user, kind: str, body: str):
    """Log the contact, close the overdue agendamentos of this lead, release it, return the next."""
    from portal.presales.services.leads import log_contact
    from portal.presales.services.schedules import complete_schedule
    log_contact(lead, kind, body, user)
    for item in db.session.execute(select(Schedule).where(Schedule.lead_id == lead.id, Schedule.done_at.is_(None),
                                                          Schedule.scheduled_at <= utcnow())).scalars():
        complete_schedule(item, user)
    release(lead, user)
    db.session.flush()
    return next_lead(user, skip={lead.id})
