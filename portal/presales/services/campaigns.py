"""Oferta ativa: a manager segments existing leads, previews the count and launches a campaign that
redistributes them fairly through a queue with a script. An open lead of another rep is never taken."""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, select

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import CONTACT_KINDS, Campaign, CampaignLead, Lead, LeadContactKey, Narrative, Queue
from portal.presales.services.distribution import _eligible, assign, lock_queue, pick
from portal.presales.services.leads import add_narrative

STATUS_FILTERS = {"lost": "Perdidos", "open": "Em aberto", "any": "Todos"}


def _day(value):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        raise ServiceError({"period": "Data inválida (use aaaa-mm-dd)."}) from None


def segment_query(user, filters: dict):
    """Scoped select of the leads a campaign would take (the caller's hierarchy only)."""
    stmt = scoped(user, Lead)
    status = filters.get("status") or "lost"
    if status not in STATUS_FILTERS:
        raise ServiceError({"status": "Situação inválida."})
    if status != "any":
        stmt = stmt.where(Lead.status == status)
    for key, column in (("loss_reason_id", Lead.loss_reason_id), ("development_id", Lead.development_id),
                        ("channel_id", Lead.channel_id), ("media_id", Lead.media_id)):
        if filters.get(key):
            stmt = stmt.where(column == int(filters[key]))
    if filters.get("no_contact_days"):
        days = int(filters["no_contact_days"])
        if days < 0:
            raise ServiceError({"no_contact_days": "Informe dias (0 ou mais)."})
        cutoff = utcnow() - timedelta(days=days)
        stmt = stmt.where(or_(Lead.last_contact_at < cutoff, and_(Lead.last_contact_at.is_(None),
                                                                   Lead.created_at < cutoff)))
    start, end = _day(filters.get("created_from")), _day(filters.get("created_to"))
    if start:
        stmt = stmt.where(Lead.created_at >= datetime.combine(start, time.min, timezone.utc))
    if end:
        stmt = stmt.where(Lead.created_at < datetime.combine(end + timedelta(days=1), time.min, timezone.utc))
    return stmt


def preview(user, filters: dict) -> dict:
    stmt = segment_query(user, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    taken = db.session.scalar(select(func.count()).select_from(
        stmt.where(Lead.status == "open", Lead.owner_id.is_not(None)).subquery()))
    return {"total": total, "open_with_rep": taken, "available": total - taken}


def _held_elsewhere(lead: Lead) -> bool:
    """The contact is in another blocking lead now: reopening this one would duplicate it."""
    return db.session.execute(select(LeadContactKey.id).where(
        LeadContactKey.key.in_([f"email:{lead.email}", f"phone:{lead.phone}"]),
        LeadContactKey.lead_id != lead.id)).first() is not None


def launch(user, name: str, filters: dict, queue_id: int, script: str = "") -> Campaign:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Dê um nome à campanha."
    queue = db.session.get(Queue, normalize.row_id(queue_id) or 0) if queue_id else None
    if queue is None or not queue.active or queue.kind != "broker":
        errors["queue_id"] = "Escolha uma fila de corretores ativa."
    if errors:
        raise ServiceError(errors)
    leads = db.session.execute(segment_query(user, filters).order_by(Lead.id)).scalars().all()
    if not leads:
        raise ServiceError({"filters": "O segmento não tem leads."})
    campaign = Campaign(name=name.strip(), filters={k: v for k, v in filters.items() if v not in (None, "")},
                        queue_id=queue.id, script=script or "", created_by_id=user.id, status="running",
                        launched_at=utcnow())
    db.session.add(campaign)
    db.session.flush()
    lock_queue(queue.id)
    members = _eligible(queue.id, online_only=False)
    if not members:
        raise ServiceError({"queue_id": "A fila não tem membros ativos."})
    pipeline_stage = None
    for lead in leads:
        if lead.status == "open" and lead.owner_id and lead.owner and lead.owner.active:
            db.session.add(CampaignLead(campaign_id=campaign.id, lead_id=lead.id, user_id=lead.owner_id,
                                        outcome="skipped", skip_reason="em aberto com outro corretor"))
            continue
        if lead.status != "open" and _held_elsewhere(lead):
            db.session.add(CampaignLead(campaign_id=campaign.id, lead_id=lead.id, outcome="skipped",
                                        skip_reason="contato já está em outro lead aberto"))
            continue
        member = pick(members)
        member.assigned_count += 1
        pipeline_stage = pipeline_stage or next(s for s in lead.pipeline.stages
                                                if not (s.is_sdr or s.is_won or s.is_lost))
        if lead.status != "open":
            lead.status, lead.closed_at, lead.loss_reason_id = "open", None, None
            lead.stage, lead.stage_id, lead.stage_entered_at = pipeline_stage, pipeline_stage.id, utcnow()
            for key in (f"email:{lead.email}" if lead.email else None, f"phone:{lead.phone}" if lead.phone else None):
                if key and not db.session.execute(select(LeadContactKey.id).where(LeadContactKey.key == key)).first():
                    db.session.add(LeadContactKey(key=key, scope=0, lead_id=lead.id))
        lead.campaign_id = campaign.id
        db.session.add(CampaignLead(campaign_id=campaign.id, lead_id=lead.id, user_id=member.user_id,
                                    stage_position=lead.stage.position))
        add_narrative(lead, "system", f"Oferta ativa “{campaign.name}”" + (f"\nRoteiro: {script}" if script else ""),
                      author=user, campaign_id=campaign.id)
        assign(lead, member.user, user, how=f"campanha “{campaign.name}”", queue=queue)
    audit("campaign.launched", campaign, leads=len(leads))
    db.session.flush()
    return campaign


def progress(campaign: Campaign) -> dict:
    """Per rep: assigned, contacted, re-engaged (moved forward or came back), converted (won)."""
    rows = db.session.execute(select(CampaignLead, Lead).join(Lead, Lead.id == CampaignLead.lead_id)
                              .where(CampaignLead.campaign_id == campaign.id, CampaignLead.outcome == "assigned")).all()
    contacted_ids = set(db.session.execute(select(Narrative.lead_id).where(
        Narrative.lead_id.in_([lead.id for _, lead in rows]), Narrative.kind.in_(CONTACT_KINDS),
        Narrative.created_at >= campaign.launched_at)).scalars())
    came_back = set(db.session.execute(select(Narrative.lead_id).where(
        Narrative.lead_id.in_([lead.id for _, lead in rows]), Narrative.kind == "reentry",
        Narrative.created_at >= campaign.launched_at)).scalars())
    per_rep: dict[int, dict] = {}
    for link, lead in rows:
        rep = per_rep.setdefault(link.user_id, {"assigned": 0, "contacted": 0, "reengaged": 0, "converted": 0})
        rep["assigned"] += 1
        rep["contacted"] += lead.id in contacted_ids
        rep["reengaged"] += lead.id in came_back or (lead.stage.position > link.stage_position and not lead.stage.is_lost)
        rep["converted"] += lead.status == "won"
    names = {u.id: u.name for u in db.session.execute(select(User).where(User.id.in_(per_rep))).scalars()}
    total = {k: sum(r[k] for r in per_rep.values()) for k in ("assigned", "contacted", "reengaged", "converted")}
    skipped = db.session.scalar(select(func.count(CampaignLead.id)).where(CampaignLead.campaign_id == campaign.id,
                                                                          CampaignLead.outcome == "skipped"))
    return {"total": total, "skipped": skipped,
            "reps": sorted(({"name": names.get(uid, "—"), **r} for uid, r in per_rep.items()),
                           key=lambda r: r["name"])}
