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

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import (CUSTOM_FIELD_KINDS, Channel, CustomField, Lead, LeadContactKey, LossReason,
                                    Media, Narrative, Queue, Stage)
from portal.presales.services import dedup
from portal.presales.services.config import get_settings
from portal.realestate.services import parse_int, parse_name, slugify
from portal.web.csv_import import fold

QUEUE_KINDS = {"broker": "Corretores", "sdr": "SDR"}
QUEUE_MODES = {"offline": "Offline — atribui na hora, em rodízio",
               "online": "Online — oferece a quem está online"}
STARTER_STAGES = [("Atendimento", "#f59e0b", {}), ("Ganho", "#16a34a", {"is_won": True}),
                  ("Perdido", "#dc2626", {"is_lost": True})]
MAX_SLA = 43200  # 30 days
MAX_CONTACT_DAYS = 365
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
    if any(normalize.row_id(v) is None for v in values):
        errors[field] = f"Escolha {what} da lista."
        return []
    ids = sorted({normalize.row_id(v) for v in values})
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
