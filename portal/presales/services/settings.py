"""Every change to the pre-sales configuration (admin screens, CLI, demo and tests alike).

Each function checks everything first and raises ServiceError (field → pt-BR message) before it
touches a row, so a refused change writes nothing; an accepted change is audited in the same
transaction. The caller commits.

Rules:
- Names of channels, media, loss reasons, pipelines and queues are unique regardless of case and
  accents. Channel/media codes (slugs, used by the API and forms) are lower-case letters, digits
  and hyphens; left blank they come from the name (and an edit keeps the old code).
- Delete or deactivate: a channel, media or loss reason that a lead, a narrative or a queue scope
  refers to is deactivated instead of deleted, so history keeps its name. A queue that already
  distributed leads (rotation counts or offers) is deactivated too.
- A pipeline always has at least one open broker stage (not SDR, won or lost: where brokers
  receive leads), exactly one won stage and at most one lost stage (without one, a lost lead keeps
  its stage with status "lost"). A stage is at most one of SDR / won / lost; won and lost stages
  have no SLA; stage names are unique within the pipeline; the kind of a stage that holds leads
  cannot change. A new pipeline starts with Atendimento / Ganho / Perdido. Exactly one pipeline is
  the default (new leads enter it); it cannot be un-defaulted directly nor deleted.
- Required fields are keys of leads.REQUIRABLE or "custom:<key>" of an existing custom field. A
  custom field's key is fixed once created (leads store values under it); a field some stage
  requires cannot be deleted.
- Queues: offer 1–60 minutes; fallback to offline rotation after 1–1440 minutes or never; scope
  ids must exist (empty = any); a queue with leads waiting in it cannot be deactivated; switching a
  queue to offline (or back on) distributes the leads waiting in it.
- Members: an active broker (broker queue) or SDR (SDR queue) whom the actor may see (a manager:
  their team subtree; `actor=None` is the system); weight 1–10. The rotation counter keeps the
  rotation fair from now on: a member who joins or returns from a pause starts at the level of the
  least-served active member, and a weight change rescales the counter, so nobody gets a burst of
  leads to "catch up". Adding or un-pausing a member hands out the leads waiting in the queue.
- Duplicate blocking: 0–365 days; changing the settings rebuilds, in the same transaction, the
  contact keys of every lead that blocks under the new rules (an open lead wins a shared key over
  a closed one, the newest over older ones).
"""
import re
from datetime import timedelta

from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import can_see
from portal.accounts.services import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import (CUSTOM_FIELD_KINDS, Channel, CustomField, Lead, LeadContactKey, LossReason, Media,
                                    Narrative, Offer, Pipeline, Queue, QueueMember, Stage)
from portal.presales.services import dedup, distribution
from portal.presales.services.config import get_settings
from portal.presales.services.leads import REQUIRABLE
from portal.realestate.models import Development
from portal.realestate.services import parse_int, parse_name, slugify
from portal.web.csv_import import fold

QUEUE_KINDS = {"broker": "Corretores", "sdr": "SDR"}
QUEUE_MODES = {"offline": "Offline — atribui na hora, em rodízio",
               "online": "Online — oferece a quem está online"}
STARTER_STAGES = [("Atendimento", "#f59e0b", {}), ("Ganho", "#16a34a", {"is_won": True}),
                  ("Perdido", "#dc2626", {"is_lost": True})]
MAX_SLA = 43200  # 30 days
MAX_FALLBACK = 1440
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# Small parsers: each returns the clean value or records a message under `field`.
def _check(errors: dict, field: str, parse, *args):
    try:
        return parse(*args)
    except ValueError as exc:
        errors[field] = str(exc)
        return None


def _flag(data: dict, key: str, default: bool = False) -> bool:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, str):
        return value.strip().lower() in ("1", "y", "yes", "on", "true", "sim")
    return bool(value)


def _number(errors: dict, field: str, value, low: int, high: int, *, required: str | None = None):
    number = _check(errors, field, parse_int, value, low, high, None)
    if number is None and required and field not in errors:
        errors[field] = required
    return number


def _taken(model, value: str, existing, column: str = "name") -> bool:
    rows = db.session.execute(select(model.id, getattr(model, column))).all()
    return any(fold(v) == fold(value) and i != getattr(existing, "id", None) for i, v in rows)


def _slug(errors: dict, value, model, existing, what: str) -> str | None:
    slug = slugify(value)[:40].strip("-")
    if not slug:
        errors["slug"] = "Informe um código com letras ou números."
    elif _taken(model, slug, existing, "slug"):
        errors["slug"] = f"Já existe {what} com este código."
    return slug


def _ids(errors: dict, field: str, values, model, what: str) -> list[int]:
    values = [v for v in (values or []) if str(v).strip()]
    if any(not str(v).strip().isdigit() for v in values):
        errors[field] = f"Escolha {what} da lista."
        return []
    ids = sorted({int(v) for v in values})
    found = set(db.session.execute(select(model.id).where(model.id.in_(ids))).scalars()) if ids else set()
    if found != set(ids):
        errors[field] = f"Escolha {what} da lista."
    return ids


def _apply(model, obj, clean: dict, action: str):
    """Create or update `obj` from already-validated values; audit what changed."""
    created = obj is None
    obj = obj if obj is not None else model()
    changed = sorted(k for k, v in clean.items() if getattr(obj, k) != v)
    for key in changed:
        setattr(obj, key, clean[key])
    db.session.add(obj)
    db.session.flush()
    if created or changed:
        audit(f"{action}.{'created' if created else 'updated'}", obj, fields=changed)
    return obj


def _count(column, value) -> int:
    return db.session.scalar(select(func.count()).where(column == value)) or 0


def _remove(obj, action: str, references: int) -> str:
    """Delete, or deactivate when something still refers to `obj`. Returns what happened."""
    if references:
        if obj.active:
            obj.active = False
            audit(f"{action}.deactivated", obj, references=references)
        return "deactivated"
    audit(f"{action}.deleted", obj, name=obj.name)
    db.session.delete(obj)
    db.session.flush()
    return "deleted"


def _renumber(items) -> None:
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position


def _move(items: list, item, delta: int) -> bool:
    """Swap `item` with its neighbour (delta -1 up, +1 down); positions become 0..n-1."""
    items = list(items)
    i = items.index(item)
    j = i + (1 if delta > 0 else -1)
    if not 0 <= j < len(items):
        return False
    items[i], items[j] = items[j], items[i]
    _renumber(items)
    db.session.flush()
    return True


# Channels, media, loss reasons
def save_channel(data: dict, channel: Channel | None = None) -> Channel:
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o nome do canal", 80)
    if name and _taken(Channel, name, channel):
        errors["name"] = "Já existe um canal com este nome."
    slug = _slug(errors, data.get("slug") or (channel.slug if channel else name), Channel, channel, "um canal")
    if errors:
        raise ServiceError(errors)
    return _apply(Channel, channel, {
        "name": name, "slug": slug, "sdr_first": _flag(data, "sdr_first", getattr(channel, "sdr_first", False)),
        "active": _flag(data, "active", getattr(channel, "active", True))}, "channel")


def delete_channel(channel: Channel) -> str:
    in_queues = sum(1 for ids in db.session.execute(select(Queue.channel_ids)).scalars() if channel.id in (ids or []))
    return _remove(channel, "channel", _count(Lead.channel_id, channel.id) + _count(Narrative.channel_id, channel.id)
                   + in_queues)


def save_media(data: dict, media: Media | None = None) -> Media:
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o nome da mídia", 80)
    if name and _taken(Media, name, media):
        errors["name"] = "Já existe uma mídia com este nome."
    slug = _slug(errors, data.get("slug") or (media.slug if media else name), Media, media, "uma mídia")
    if errors:
        raise ServiceError(errors)
    active = _flag(data, "active", getattr(media, "active", True))
    return _apply(Media, media, {"name": name, "slug": slug, "active": active}, "media")


def delete_media(media: Media) -> str:
    return _remove(media, "media", _count(Lead.media_id, media.id) + _count(Narrative.media_id, media.id))


def save_loss_reason(data: dict, reason: LossReason | None = None) -> LossReason:
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o motivo", 120)
    if name and _taken(LossReason, name, reason):
        errors["name"] = "Já existe um motivo com este nome."
    if errors:
        raise ServiceError(errors)
    return _apply(LossReason, reason, {"name": name, "active": _flag(data, "active", getattr(reason, "active", True))},
                  "loss_reason")


def delete_loss_reason(reason: LossReason) -> str:
    return _remove(reason, "loss_reason", _count(Lead.loss_reason_id, reason.id))


# Pipelines and stages
def save_pipeline(data: dict, pipeline: Pipeline | None = None) -> Pipeline:
    """Create (with the starter stages) or rename; `is_default` moves the default here."""
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o nome do funil", 120)
    if name and _taken(Pipeline, name, pipeline):
        errors["name"] = "Já existe um funil com este nome."
    first = db.session.scalar(select(func.count(Pipeline.id))) == 0
    is_default = first or _flag(data, "is_default", getattr(pipeline, "is_default", False))
    if pipeline is not None and pipeline.is_default and not is_default:
        errors["is_default"] = "Sempre há um funil padrão: marque outro funil como padrão para trocar."
    if errors:
        raise ServiceError(errors)
    created = pipeline is None
    if is_default:
        for other in db.session.execute(select(Pipeline).where(Pipeline.is_default.is_(True))).scalars():
            if other is not pipeline:
                other.is_default = False
                audit("pipeline.updated", other, fields=["is_default"])
    pipeline = _apply(Pipeline, pipeline, {"name": name, "is_default": is_default}, "pipeline")
    if created:
        for position, (stage_name, color, flags) in enumerate(STARTER_STAGES):
            pipeline.stages.append(Stage(name=stage_name, color=color, position=position, required_fields=[],
                                         is_sdr=False, is_won=flags.get("is_won", False),
                                         is_lost=flags.get("is_lost", False)))
        db.session.flush()
    return pipeline


def delete_pipeline(pipeline: Pipeline) -> None:
    if pipeline.is_default:
        raise ServiceError({"pipeline": "O funil padrão não pode ser excluído: marque outro como padrão antes."})
    leads = _count(Lead.pipeline_id, pipeline.id)
    if leads:
        raise ServiceError({"pipeline": f"O funil tem {leads} lead(s); não pode ser excluído."})
    audit("pipeline.deleted", pipeline, name=pipeline.name)
    db.session.delete(pipeline)
    db.session.flush()


def requirable_fields() -> dict[str, str]:
    """Everything a stage may require: lead attributes and "custom:<key>" fields → pt-BR label."""
    fields = dict(REQUIRABLE)
    for f in db.session.execute(select(CustomField).order_by(CustomField.position, CustomField.id)).scalars():
        fields[f"custom:{f.key}"] = f"{f.label} (personalizado)"
    return fields


def _stage_rules(pipeline: Pipeline, stage: Stage | None, new: dict | None) -> dict[str, str]:
    """Pipeline invariants with `stage` replaced by `new` flags (None: stage deleted)."""
    flags = [(s.is_sdr, s.is_won, s.is_lost, s.name) for s in pipeline.stages if s is not stage]
    if new is not None:
        flags.append((new["is_sdr"], new["is_won"], new["is_lost"], new["name"]))
    culprit = next((k for k in ("is_sdr", "is_won", "is_lost") if new and new[k]), "is_sdr") if new else "stage"
    errors = {}
    if not any(not (sdr or won or lost) for sdr, won, lost, _ in flags):
        errors[culprit] = "O funil precisa de ao menos uma etapa aberta de corretores (nem SDR, nem ganho, nem perda)."
    won = [n for _, w, _, n in flags if w]
    lost = [n for _, _, lost_, n in flags if lost_]
    if not won:
        errors["is_won" if new else "stage"] = "O funil precisa de uma etapa de ganho."
    elif len(won) > 1:
        errors["is_won" if new else "stage"] = f"O funil já tem a etapa de ganho “{won[0]}”."
    if len(lost) > 1:
        errors["is_lost" if new else "stage"] = f"O funil já tem a etapa de perda “{lost[0]}”."
    return errors


def save_stage(pipeline: Pipeline, data: dict, stage: Stage | None = None) -> Stage:
    errors: dict[str, str] = {}
    name = _check(errors, "name", parse_name, data.get("name"), "o nome da etapa", 80)
    if name and any(fold(s.name) == fold(name) for s in pipeline.stages if s is not stage):
        errors["name"] = "Já existe uma etapa com este nome neste funil."
    color = str(data.get("color") or "").strip() or "#64748b"
    if not COLOR.match(color):
        errors["color"] = "Escolha uma cor (formato #rrggbb)."
    flags = {k: _flag(data, k, getattr(stage, k, False)) for k in ("is_sdr", "is_won", "is_lost")}
    sla = _number(errors, "sla_minutes", data.get("sla_minutes"), 1, MAX_SLA)
    if sum(flags.values()) > 1:
        errors["is_sdr"] = "Uma etapa é só uma coisa: de SDR, de ganho ou de perda."
    elif (flags["is_won"] or flags["is_lost"]) and sla:
        errors["sla_minutes"] = "Etapas de ganho ou de perda não têm SLA."
    allowed = requirable_fields()
    required = list(dict.fromkeys(str(f).strip() for f in data.get("required_fields") or [] if str(f).strip()))
    unknown = [f for f in required if f not in allowed]
    if unknown:
        errors["required_fields"] = "Campo desconhecido: " + ", ".join(unknown) + "."
    if stage is not None and any(getattr(stage, k) != v for k, v in flags.items()):
        leads = _count(Lead.stage_id, stage.id)
        if leads:
            errors["is_sdr"] = f"A etapa tem {leads} lead(s): mova-os antes de mudar o tipo dela."
    if not errors:
        errors = _stage_rules(pipeline, stage, {**flags, "name": name})
    if errors:
        raise ServiceError(errors)
    created = stage is None
    stage = _apply(Stage, stage, {"pipeline": pipeline, "name": name, "color": color.lower(),
                                  "sla_minutes": sla, "required_fields": required, **flags}, "stage")
    if created:
        others = [s for s in pipeline.stages if s is not stage]
        terminal = next((i for i, s in enumerate(others) if s.is_won or s.is_lost), len(others))
        at = len(others) if (stage.is_won or stage.is_lost) else terminal
        _renumber(others[:at] + [stage] + others[at:])
        db.session.flush()
        db.session.refresh(pipeline, ["stages"])
    return stage


def delete_stage(stage: Stage) -> None:
    leads = _count(Lead.stage_id, stage.id)
    if leads:
        raise ServiceError({"stage": f"A etapa tem {leads} lead(s): mova-os para outra etapa antes de excluir."})
    errors = _stage_rules(stage.pipeline, stage, None)
    if errors:
        raise ServiceError(errors)
    pipeline = stage.pipeline
    audit("stage.deleted", stage, name=stage.name, pipeline_id=pipeline.id)
    pipeline.stages.remove(stage)
    db.session.delete(stage)
    _renumber(pipeline.stages)
    db.session.flush()


def move_stage(stage: Stage, delta: int) -> bool:
    moved = _move(stage.pipeline.stages, stage, delta)
    if moved:
        audit("stage.moved", stage, position=stage.position)
        db.session.refresh(stage.pipeline, ["stages"])
    return moved


def reorder_stages(pipeline: Pipeline, stage_ids: list) -> None:
    """Set the whole order at once (e.g. drag and drop): the ids of all the pipeline's stages."""
    by_id = {s.id: s for s in pipeline.stages}
    try:
        ids = [int(i) for i in stage_ids]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(by_id):
        raise ServiceError({"stages": "A nova ordem precisa listar todas as etapas do funil, uma vez cada."})
    _renumber([by_id[i] for i in ids])
    db.session.flush()
    db.session.refresh(pipeline, ["stages"])
    audit("pipeline.stages_reordered", pipeline, order=ids)


# Custom lead fields
def _choices(value) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(" ".join(str(i).split()) for i in items if str(i).strip()))


def save_custom_field(data: dict, field: CustomField | None = None) -> CustomField:
    errors: dict[str, str] = {}
    label = _check(errors, "label", parse_name, data.get("label"), "o rótulo do campo", 80)
    if field is not None:
        key = field.key
        if data.get("key") and str(data["key"]).strip() != field.key:
            errors["key"] = "O código não muda depois de criado (os leads guardam valores com ele)."
    else:
        key = str(data.get("key") or "").strip().lower() or fold(label)[:40]
        if key and key[0].isdigit():
            key = f"campo_{key}"[:40]
        if not KEY.match(key):
            errors["key"] = "Use letras minúsculas, números e _ (começando por letra), até 40 caracteres."
        elif _taken(CustomField, key, None, "key"):
            errors["key"] = "Já existe um campo com este código."
    kind = str(data.get("kind") or "text")
    if kind not in CUSTOM_FIELD_KINDS:
        errors["kind"] = "Escolha um tipo válido."
    choices = _choices(data.get("choices")) if kind == "choice" else []
    if kind == "choice" and len(choices) < 2:
        errors["choices"] = "Informe ao menos duas opções, uma por linha."
    elif len(choices) > 50 or any(len(c) > 80 for c in choices):
        errors["choices"] = "Use até 50 opções de até 80 caracteres."
    if errors:
        raise ServiceError(errors)
    position = field.position if field is not None else (
        db.session.scalar(select(func.max(CustomField.position))) or 0) + 1
    return _apply(CustomField, field, {"key": key, "label": label, "kind": kind, "choices": choices,
                                       "position": position}, "custom_field")


def delete_custom_field(field: CustomField) -> str:
    ref = f"custom:{field.key}"
    stages = [s.name for s in db.session.execute(select(Stage)).scalars() if ref in (s.required_fields or [])]
    if stages:
        raise ServiceError({"field": "Este campo é obrigatório nas etapas " + ", ".join(stages)
                            + ". Retire-o dessas etapas antes de excluir."})
    audit("custom_field.deleted", field, key=field.key, label=field.label)
    db.session.delete(field)
    db.session.flush()
    return "deleted"


def move_custom_field(field: CustomField, delta: int) -> bool:
    fields = db.session.execute(select(CustomField).order_by(CustomField.position, CustomField.id)).scalars().all()
    moved = _move(fields, field, delta)
    if moved:
        audit("custom_field.moved", field, position=field.position)
    return moved


# Queues
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
    user = db.session.get(User, int(user_id)) if str(user_id or "").strip().isdigit() else None
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
def save_settings(data: dict):
    settings = get_settings()
    db.session.refresh(settings, with_for_update=True)  # exclusive: intakes wait until the keys are rebuilt
    errors: dict[str, str] = {}
    same_development = _flag(data, "dedup_same_development_only", settings.dedup_same_development_only)
    days = _number(errors, "dedup_closed_days", data.get("dedup_closed_days"), 0, 365,
                   required="Informe quantos dias (0 a 365).")
    if errors:
        raise ServiceError(errors)
    changed = [k for k, v in (("dedup_same_development_only", same_development), ("dedup_closed_days", days))
               if getattr(settings, k) != v]
    if changed:
        settings.dedup_same_development_only, settings.dedup_closed_days = same_development, days
        keys = rebuild_contact_keys(settings)
        audit("presales_settings.updated", settings, fields=changed, keys=keys)
    return settings


def rebuild_contact_keys(settings) -> int:
    """Re-derive lead_contact_keys for the blocking leads under `settings`; returns how many keys."""
    db.session.flush()
    db.session.execute(delete(LeadContactKey))
    cutoff = utcnow() - timedelta(days=settings.dedup_closed_days or 0)
    rows = db.session.execute(
        select(Lead.id, Lead.email, Lead.phone, Lead.development_id)
        .where(or_(Lead.status == "open", Lead.closed_at >= cutoff),
               or_(Lead.email.is_not(None), Lead.phone.is_not(None)))
        .order_by(case((Lead.status == "open", 0), else_=1), Lead.id.desc())).all()
    taken: dict[tuple[str, int], int] = {}
    for lead_id, email, phone, development_id in rows:
        for key in dedup.contact_keys(email, phone, development_id, settings):
            taken.setdefault(key, lead_id)
    if taken:
        db.session.execute(insert(LeadContactKey),
                           [{"key": k, "scope": s, "lead_id": i} for (k, s), i in taken.items()])
    return len(taken)
