"""Distribution queues and their members (rules: see services/settings.py)."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import can_see
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales.models import Channel, Lead, Offer, Queue, QueueMember
from portal.presales.services import distribution
from portal.realestate.models import Development
from portal.realestate.services import parse_name
from portal.presales.services.settings import (MAX_FALLBACK, QUEUE_KINDS, QUEUE_MODES, _apply, _check, _count, _flag,
                                               _ids, _move, _number, _remove, _renumber, _taken)


def waiting_leads(queue: Queue) -> list[Lead]:
    return db.session.execute(select(Lead).where(Lead.queue_id == queue.id, Lead.owner_id.is_(None),
                                                 Lead.status == "open").order_by(Lead.id)).scalars().all()


def _drain(queue: Queue) -> int:
    """Hand out the leads waiting in the queue now that someone can take them."""
    if not queue.active:
        return 0
    if queue.mode == "online":
        return distribution.offer_waiting(queue)
    done = 0
    for lead in waiting_leads(queue):
        if db.session.execute(select(Offer.id).where(Offer.lead_id == lead.id, Offer.status == "pending")).first():
            continue
        if not distribution._eligible(queue.id, online_only=False):
            break
        done += distribution.assign_offline(lead, queue)
    return done


def save_queue(data: dict, queue: Queue | None = None) -> Queue:
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o nome da fila", 120)
    if name and _taken(Queue, name, queue):
        errors["name"] = "Já existe uma fila com este nome."
    kind = str(data.get("kind") or getattr(queue, "kind", "broker"))
    if kind not in QUEUE_KINDS:
        errors["kind"] = "Escolha corretores ou SDR."
    mode = str(data.get("mode") or getattr(queue, "mode", "offline"))
    if mode not in QUEUE_MODES:
        errors["mode"] = "Escolha offline ou online."
    active = _flag(data, "active", getattr(queue, "active", True))
    offer = _number(errors, "offer_minutes", data.get("offer_minutes", 5), 1, 60,
                    required="Informe quantos minutos a oferta fica com cada pessoa (1 a 60).")
    fallback = _number(errors, "fallback_minutes", data.get("fallback_minutes"), 1, MAX_FALLBACK)
    developments = _ids(errors, "development_ids", data.get("development_ids"), Development, "empreendimentos")
    channels = _ids(errors, "channel_ids", data.get("channel_ids"), Channel, "canais")
    if queue is not None and kind != queue.kind and "kind" not in errors:
        wrong = [m.user.name for m in queue.members if m.user.role != kind]
        if wrong:
            errors["kind"] = "Retire antes os membros que não são " + ("SDR" if kind == "sdr" else "corretores") \
                             + ": " + ", ".join(wrong) + "."
    if queue is not None and queue.active and not active:
        waiting = len(waiting_leads(queue))
        if waiting:
            errors["active"] = f"Há {waiting} lead(s) aguardando nesta fila: distribua-os antes de desativá-la."
    if errors:
        raise ServiceError(errors)
    was = (queue.mode, queue.active) if queue is not None else None
    position = queue.position if queue is not None else (db.session.scalar(select(func.max(Queue.position))) or 0) + 1
    queue = _apply(Queue, queue, {"name": name, "kind": kind, "mode": mode, "active": active, "offer_minutes": offer,
                                  "fallback_minutes": fallback, "development_ids": developments,
                                  "channel_ids": channels, "position": position}, "queue")
    if was is not None and was != (queue.mode, queue.active):
        _drain(queue)
    return queue


def delete_queue(queue: Queue) -> str:
    waiting = len(waiting_leads(queue))
    if waiting:
        raise ServiceError({"queue": f"Há {waiting} lead(s) aguardando nesta fila: distribua-os antes."})
    history = _count(Offer.queue_id, queue.id) + sum(m.assigned_count for m in queue.members)
    return _remove(queue, "queue", history)


def move_queue(queue: Queue, delta: int) -> bool:
    queues = db.session.execute(select(Queue).order_by(Queue.position, Queue.id)).scalars().all()
    moved = _move(queues, queue, delta)
    if moved:
        audit("queue.moved", queue, position=queue.position)
    return moved


# Queue members
def _in_scope(actor, user: User) -> None:
    if actor is not None and not can_see(actor, user):
        raise ServiceError({"user_id": "Você só pode gerenciar pessoas da sua equipe."})


def _level(queue_id: int, exclude: int | None) -> float:
    """assigned / weight of the least-served active member (the rotation's current level)."""
    members = [m for m in distribution._eligible(queue_id, online_only=False) if m.id != exclude]
    return min((m.assigned_count / max(m.weight, 1) for m in members), default=0.0)


def add_member(queue: Queue, user_id, actor=None, weight=1) -> QueueMember:
    errors: dict[str, str] = {}
    user = db.session.get(User, normalize.row_id(user_id) or 0)
    who = "um corretor" if queue.kind == "broker" else "um SDR"
    if user is None or not user.active or user.role != queue.kind:
        errors["user_id"] = f"Escolha {who} ativo."
    elif actor is not None and not can_see(actor, user):
        errors["user_id"] = "Você só pode incluir pessoas da sua equipe."
    elif any(m.user_id == user.id for m in queue.members):
        errors["user_id"] = f"{user.name} já está nesta fila."
    weight = _number(errors, "weight", weight, 1, 10, required="Informe um peso de 1 a 10.")
    if errors:
        raise ServiceError(errors)
    distribution.lock_queue(queue.id)
    member = QueueMember(queue_id=queue.id, user_id=user.id, weight=weight,
                         position=max((m.position for m in queue.members), default=-1) + 1,
                         assigned_count=int(_level(queue.id, None) * weight))
    try:
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
    except IntegrityError:
        raise ServiceError({"user_id": f"{user.name} já está nesta fila."}) from None
    db.session.refresh(queue, ["members"])
    audit("queue_member.added", queue, user=actor, member=user.id, weight=weight)
    _drain(queue)
    return member


def remove_member(member: QueueMember, actor=None) -> None:
    _in_scope(actor, member.user)
    queue = member.queue
    audit("queue_member.removed", queue, user=actor, member=member.user_id)
    queue.members.remove(member)
    db.session.delete(member)
    _renumber(queue.members)
    db.session.flush()


def set_weight(member: QueueMember, weight, actor=None) -> QueueMember:
    errors: dict[str, str] = {}
    weight = _number(errors, "weight", weight, 1, 10, required="Informe um peso de 1 a 10.")
    if errors:
        raise ServiceError(errors)
    _in_scope(actor, member.user)
    if weight != member.weight:
        distribution.lock_queue(member.queue_id)
        member.assigned_count = round(member.assigned_count * weight / max(member.weight, 1))
        audit("queue_member.weight", member.queue, user=actor, member=member.user_id, old=member.weight, new=weight)
        member.weight = weight
        db.session.flush()
    return member


def set_paused(member: QueueMember, paused: bool, actor=None) -> QueueMember:
    _in_scope(actor, member.user)
    if bool(paused) != member.paused:
        distribution.lock_queue(member.queue_id)
        if not paused:
            member.assigned_count = max(member.assigned_count, int(_level(member.queue_id, member.id) * member.weight))
        member.paused = bool(paused)
        db.session.flush()
        audit("queue_member.paused" if paused else "queue_member.resumed", member.queue, user=actor,
              member=member.user_id)
        if not paused:
            _drain(member.queue)
    return member


def move_member(member: QueueMember, delta: int, actor=None) -> bool:
    _in_scope(actor, member.user)
    moved = _move(member.queue.members, member, delta)
    if moved:
        audit("queue_member.moved", member.queue, user=actor, member=member.user_id, position=member.position)
        db.session.refresh(member.queue, ["members"])
    return moved


# Duplicate blocking
