"""Fair distribution (roleta): offline rotation and online offers, safe under concurrency.

The queue row is locked with a no-op UPDATE before members are read: on PostgreSQL that is a row
lock, on SQLite the database write lock — so two intakes never read the same counts and never pick
the same turn. Fairness: the next member is the one with the lowest (assigned + 1) / weight.
"""
from datetime import timedelta

from sqlalchemy import select, update

from portal import jobs
from portal.accounts.models import User
from portal.errors import ServiceError
from portal.automation.calendar import get_calendar
from portal.automation.events import publish
from portal.automation.services import notify
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, Offer, Queue, QueueMember
from portal.presales.services.leads import add_narrative

PRESENCE_SECONDS = 120


def queue_for(lead: Lead, kind: str) -> Queue | None:
    queues = db.session.execute(select(Queue).where(Queue.active.is_(True), Queue.kind == kind)
                                .order_by(Queue.position, Queue.id)).scalars()
    for queue in queues:
        if queue.development_ids and lead.development_id not in queue.development_ids:
            continue
        if queue.channel_ids and lead.channel_id not in queue.channel_ids:
            continue
        return queue
    return None


def lock_queue(queue_id: int) -> None:
    db.session.execute(update(Queue).where(Queue.id == queue_id).values(position=Queue.position))


def _eligible(queue_id: int, online_only: bool, exclude: set[int] = frozenset()) -> list[QueueMember]:
    stmt = (select(QueueMember).join(User, User.id == QueueMember.user_id)
            .where(QueueMember.queue_id == queue_id, QueueMember.paused.is_(False), User.active.is_(True))
            .execution_options(populate_existing=True))
    members = [m for m in db.session.execute(stmt).scalars() if m.user_id not in exclude]
    if online_only:
        since = utcnow() - timedelta(seconds=PRESENCE_SECONDS)
        members = [m for m in members if m.checked_in and m.last_seen_at and m.last_seen_at >= since]
    return members


def pick(members: list[QueueMember]) -> QueueMember | None:
    """Weighted fair turn: lowest (assigned + 1) / weight, then queue order."""
    if not members:
        return None
    return min(members, key=lambda m: ((m.assigned_count + 1) / max(m.weight, 1), m.position, m.id))


def _first_response_due(lead: Lead):
    minutes = lead.stage.sla_minutes if lead.stage else None
    if not minutes:
        return None
    return get_calendar().add_business_minutes(utcnow(), minutes)


def assign(lead: Lead, user: User, actor=None, how: str = "", queue: Queue | None = None) -> Lead:
    """Give the lead an owner (and its SDR while in SDR stages); a narrative and an event say so."""
    previous = lead.owner
    lead.owner_id = user.id
    lead.owner = user
    if lead.stage and lead.stage.is_sdr:
        lead.sdr_id = user.id
    lead.assigned_at = utcnow()
    lead.queue_id = None
    lead.first_response_at = None
    lead.first_response_due = _first_response_due(lead)
    text = f"Atribuído a {user.name}" + (f" ({how})" if how else "")
    if previous is not None and previous.id != user.id:
        text = f"Transferido de {previous.name} para {user.name}" + (f" ({how})" if how else "")
    add_narrative(lead, "assignment", text, author=actor, queue_id=getattr(queue, "id", None), user_id=user.id)
    notify(user.id, f"Novo lead para você: {lead.number}", lead.name, url=f"/pre-vendas/leads/{lead.id}")
    db.session.flush()
    publish("lead.assigned", lead, actor=actor, owner=user.name, how=how)
    from portal.automation.engine import schedule
    schedule(lead)
    return lead


def distribute(lead: Lead, kind: str = "broker", actor=None) -> str:
    """Send a lead through the queue that covers it: assigned, offered, waiting or no queue."""
    queue = queue_for(lead, kind)
    if queue is None:
        add_narrative(lead, "system", "Nenhuma fila de atendimento cobre este lead: aguardando distribuição manual.")
        return "unqueued"
    if queue.mode == "online":
        return "offered" if offer_next(lead, queue) else "waiting"
    assign_offline(lead, queue, actor)
    return "assigned"


def assign_offline(lead: Lead, queue: Queue, actor=None) -> bool:
    lock_queue(queue.id)
    member = pick(_eligible(queue.id, online_only=False))
    if member is None:
        lead.queue_id = queue.id
        add_narrative(lead, "system", f"Fila “{queue.name}” sem membros ativos: aguardando.")
        return False
    member.assigned_count += 1
    assign(lead, member.user, actor, how=f"roleta offline “{queue.name}”", queue=queue)
    return True


def offer_next(lead: Lead, queue: Queue) -> Offer | None:
    """Offer the lead to the next online member who has not had it yet; None means it waits."""
    lock_queue(queue.id)
    if db.session.execute(select(Offer.id).where(Offer.lead_id == lead.id, Offer.status == "pending")).first():
        return None  # one pending offer at a time
    tried = set(db.session.execute(select(Offer.user_id).where(Offer.lead_id == lead.id)).scalars())
    member = pick(_eligible(queue.id, online_only=True, exclude=tried))
    lead.queue_id = queue.id
    if member is None:
        if not tried:
            add_narrative(lead, "offer", f"Ninguém online na fila “{queue.name}”: aguardando check-in.")
        return None
    offer = Offer(lead_id=lead.id, queue_id=queue.id, user_id=member.user_id,
                  expires_at=utcnow() + timedelta(minutes=queue.offer_minutes or 5))
    db.session.add(offer)
    add_narrative(lead, "offer", f"Oferecido a {member.user.name} por {queue.offer_minutes} min", user_id=member.user_id)
    notify(member.user_id, f"Lead oferecido: {lead.number}", f"Aceite em até {queue.offer_minutes} minutos.",
           url="/pre-vendas/ofertas")
    db.session.flush()
    offer_id, expires = offer.id, offer.expires_at
    jobs.after_commit(db.session, lambda: jobs.enqueue(expire_offer, offer_id, at=expires, queue_name="high"))
    return offer


def _pending_offer(offer_id: int, user: User) -> Offer:
    offer = db.session.execute(select(Offer).where(Offer.id == offer_id).with_for_update()).scalar_one_or_none()
    if offer is None or offer.user_id != user.id:
        raise LookupError
    if offer.status != "pending" or offer.expires_at <= utcnow():
        raise ServiceError({"offer": "Esta oferta não está mais disponível (expirou ou já foi respondida)."})
    return offer


def accept_offer(offer_id: int, user: User) -> Lead:
    offer = _pending_offer(offer_id, user)
    offer.status, offer.answered_at = "accepted", utcnow()
    lock_queue(offer.queue_id)
    member = db.session.execute(select(QueueMember).where(QueueMember.queue_id == offer.queue_id,
                                                          QueueMember.user_id == user.id)).scalar_one_or_none()
    if member is not None:
        member.assigned_count += 1
    return assign(offer.lead, user, user, how="aceitou a oferta", queue=db.session.get(Queue, offer.queue_id))


def decline_offer(offer_id: int, user: User) -> Lead:
    offer = _pending_offer(offer_id, user)
    offer.status, offer.answered_at = "declined", utcnow()
    add_narrative(offer.lead, "offer", f"{user.name} recusou a oferta", author=user)
    db.session.flush()
    offer_next(offer.lead, db.session.get(Queue, offer.queue_id))
    return offer.lead


def expire_offer(offer_id: int) -> str:
    """Job at the offer's deadline (and the sweep, if the job was lost): pass it on."""
    offer = db.session.execute(select(Offer).where(Offer.id == offer_id).with_for_update()).scalar_one_or_none()
    if offer is None or offer.status != "pending" or offer.expires_at > utcnow():
        db.session.rollback()
        return "nothing"
    offer.status, offer.answered_at = "expired", utcnow()
    add_narrative(offer.lead, "offer", f"Oferta a {offer.user.name} expirou sem resposta")
    db.session.flush()
    offer_next(offer.lead, db.session.get(Queue, offer.queue_id))
    db.session.commit()
    return "expired"


def set_presence(user: User, checked_in: bool | None = None) -> int:
    """Check in/out (None: heartbeat from an open page). Checking in offers the leads waiting."""
    members = db.session.execute(select(QueueMember).where(QueueMember.user_id == user.id)).scalars().all()
    now = utcnow()
    for m in members:
        if checked_in is not None:
            m.checked_in = checked_in
        if m.checked_in:
            m.last_seen_at = now
    offered = 0
    if checked_in:
        db.session.flush()
        for m in members:
            offered += offer_waiting(m.queue)
    return offered


def offer_waiting(queue: Queue) -> int:
    if not queue.active or queue.mode != "online":
        return 0
    waiting = db.session.execute(select(Lead).where(Lead.queue_id == queue.id, Lead.owner_id.is_(None),
                                                    Lead.status == "open").order_by(Lead.id)).scalars().all()
    return sum(1 for lead in waiting if offer_next(lead, queue))


def sweep_offers(now=None) -> dict:
    """Minute sweep: expire overdue offers; leads waiting past the queue's fallback go to offline rotation."""
    now = now or utcnow()
    expired = db.session.execute(select(Offer.id).where(Offer.status == "pending", Offer.expires_at <= now)
                                 .limit(500)).scalars().all()
    for offer_id in expired:
        expire_offer(offer_id)
    fallback = 0
    queues = db.session.execute(select(Queue).where(Queue.mode == "online", Queue.fallback_minutes.is_not(None),
                                                    Queue.active.is_(True))).scalars().all()
    for queue in queues:
        cutoff = now - timedelta(minutes=queue.fallback_minutes)
        waiting = db.session.execute(select(Lead).where(Lead.queue_id == queue.id, Lead.owner_id.is_(None),
                                                        Lead.status == "open", Lead.created_at <= cutoff)
                                     .limit(200)).scalars().all()
        for lead in waiting:
            if db.session.execute(select(Offer.id).where(Offer.lead_id == lead.id, Offer.status == "pending")).first():
                continue
            add_narrative(lead, "system", f"Sem aceite em {queue.fallback_minutes} min: roleta offline.")
            fallback += assign_offline(lead, queue)
        db.session.commit()
    return {"expired": len(expired), "fallback": fallback}


def reassign(lead: Lead, user: User, actor, reason: str = "") -> Lead:
    from portal.accounts.scope import can_see
    if not user.active or user.role not in ("broker", "sdr", "manager"):
        raise ServiceError({"owner_id": "Escolha um corretor ou SDR ativo."})
    if not can_see(actor, user):
        raise ServiceError({"owner_id": "Você só pode transferir para pessoas da sua equipe."})
    return assign(lead, user, actor, how="transferência manual" + (f": {reason}" if reason else ""))
