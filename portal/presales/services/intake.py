"""Lead intake: every channel (form, public page, API, RD Station, customer portal, import) ends here."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.automation.services import notify
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Channel, Lead, LeadContactKey, Media
from portal.presales.services import dedup
from portal.presales.services.config import channel_by_slug, default_pipeline, get_settings, media_by_name
from portal.presales.services.distribution import distribute
from portal.presales.services.leads import add_narrative
from portal.realestate.models import Development
from portal.sequences import next_value

MAX_MESSAGE = 5000


@dataclass
class IntakeResult:
    lead: Lead
    status: str  # created | duplicate

    @property
    def created(self):
        return self.status == "created"


def clean(data: dict, *, channel: Channel | None = None) -> dict:
    """Validate and normalize one entry; ServiceError maps field → pt-BR message."""
    if forbidden := normalize.forbidden_fields(data):  # before any lookup: PostgreSQL refuses NUL
        raise ServiceError(forbidden)
    errors, out = {}, {}
    out["name"] = " ".join(str(data.get("name") or "").split())[:160]
    if not out["name"]:
        errors["name"] = "Informe o nome."
    out["email"] = out["phone"] = None
    if data.get("email"):
        try:
            out["email"] = normalize.email(str(data["email"]))
        except normalize.InvalidValue as exc:
            errors["email"] = str(exc)
    if data.get("phone"):
        try:
            out["phone"] = normalize.phone(str(data["phone"]))
        except normalize.InvalidValue as exc:
            errors["phone"] = str(exc)
    if not data.get("email") and not data.get("phone"):
        errors["contact"] = "Informe e-mail ou telefone."
    out["development"] = None
    if data.get("development"):
        ref = str(data["development"]).strip()
        out["development"] = db.session.execute(select(Development).where(
            (Development.slug == ref) | (Development.id == (normalize.row_id(ref) or -1)))).scalar()
        if out["development"] is None:
            errors["development"] = f"Empreendimento desconhecido: {ref}."
    out["channel"] = channel
    if channel is None:
        out["channel"] = channel_by_slug(str(data.get("channel") or ""))
        if out["channel"] is None or not out["channel"].active:
            errors["channel"] = "Canal de entrada desconhecido."
    out["media"] = None
    if data.get("media"):
        out["media"] = media_by_name(str(data["media"]))
        if out["media"] is None:
            errors["media"] = f"Mídia desconhecida: {data['media']}."
    message = str(data.get("message") or "")
    if len(message) > MAX_MESSAGE:
        errors["message"] = f"Mensagem longa demais (máximo {MAX_MESSAGE} caracteres)."
    out["message"] = message
    extra = data.get("extra") or {}
    if not isinstance(extra, dict):
        errors["extra"] = "O campo extra deve ser um objeto."
    out["extra"] = extra if isinstance(extra, dict) else {}
    if errors:
        raise ServiceError(errors)
    return out


def intake(data: dict, *, channel: Channel | None = None, actor=None, force_reason: str | None = None,
           consent: bool = False) -> IntakeResult:
    """Create a lead, or record a re-entry on the lead that already has this contact.

    The duplicate guarantee is the unique index on lead_contact_keys: two simultaneous entries with
    the same phone collide there, and the loser becomes a re-entry on the winner's lead.
    """
    entry = clean(data, channel=channel)
    settings = get_settings(share_lock=True)
    keys = dedup.contact_keys(entry["email"], entry["phone"], getattr(entry["development"], "id", None), settings)
    if force_reason is not None:
        if getattr(actor, "role", None) != "admin":
            raise ServiceError({"force": "Só administradores podem forçar um novo lead."})
        if not force_reason.strip():
            raise ServiceError({"force_reason": "Informe o motivo para forçar um novo lead."})
    else:
        existing = dedup.find_blocking(keys, settings)
        if existing is not None:
            return IntakeResult(reentry(existing, entry, actor), "duplicate")
    try:
        with db.session.begin_nested():
            lead = _create(entry, actor, consent)
            if force_reason is not None:
                dedup.take_keys(lead, keys)
            else:
                for key, scope in keys:
                    db.session.add(LeadContactKey(key=key, scope=scope, lead_id=lead.id))
            db.session.flush()
    except IntegrityError:
        # A concurrent intake took the key first (its transaction has committed by now).
        existing = dedup.find_blocking(keys, settings)
        if existing is None:
            raise
        return IntakeResult(reentry(existing, entry, actor), "duplicate")
    if force_reason is not None:
        add_narrative(lead, "system", f"Novo lead forçado apesar de duplicidade: {force_reason}", author=actor)
        audit("lead.forced", lead, reason=force_reason)
    publish("lead.created", lead, actor=actor, channel=getattr(lead.channel, "slug", None))
    kind = "sdr" if lead.stage.is_sdr else "broker"
    distribute(lead, kind, actor)
    return IntakeResult(lead, "created")


def _create(entry: dict, actor, consent: bool) -> Lead:
    pipeline = default_pipeline()
    if pipeline is None or not pipeline.stages:
        raise ServiceError({"pipeline": "Configure um funil com etapas antes de receber leads."})
    channel: Channel = entry["channel"]
    stages = [s for s in pipeline.stages if not s.is_won and not s.is_lost]
    sdr_stages = [s for s in stages if s.is_sdr]
    stage = sdr_stages[0] if channel.sdr_first and sdr_stages else next(s for s in stages if not s.is_sdr)
    lead = Lead(number=f"L-{next_value('lead'):06d}", name=entry["name"], email=entry["email"], phone=entry["phone"],
                development_id=getattr(entry["development"], "id", None), channel_id=channel.id,
                media_id=getattr(entry["media"], "id", None), pipeline_id=pipeline.id, stage_id=stage.id,
                message=entry["message"], extra=entry["extra"], custom={}, consent_at=utcnow() if consent else None)
    lead.stage, lead.channel = stage, channel
    db.session.add(lead)
    db.session.flush()
    add_narrative(lead, "system", f"Lead criado pelo canal {channel.name}"
                  + (f" · mídia {entry['media'].name}" if entry["media"] else "")
                  + (f"\n{entry['message']}" if entry["message"] else ""), author=actor, channel=channel,
                  media=entry["media"])
    return lead


def reentry(lead: Lead, entry: dict, actor=None) -> Lead:
    """The same person came back: a narrative on the existing lead; its owner keeps it and is told."""
    channel: Channel = entry["channel"]
    media: Media | None = entry["media"]
    text = f"Reentrada pelo canal {channel.name}" + (f" · mídia {media.name}" if media else "")
    if entry["message"]:
        text += f"\n{entry['message']}"
    add_narrative(lead, "reentry", text, author=actor, channel=channel, media=media,
                  email=entry["email"], phone=entry["phone"])
    if lead.owner_id:
        notify(lead.owner_id, f"{lead.number} voltou a entrar em contato", f"{lead.name} — {channel.name}",
               url=f"/pre-vendas/leads/{lead.id}")
    db.session.flush()
    publish("lead.reentry", lead, actor=actor, channel=channel.slug, media=getattr(media, "slug", None))
    return lead


def handover(lead: Lead, actor) -> Lead:
    """SDR hands a qualified lead to the brokers: first broker stage, broker queue of the development."""
    from portal.presales.services.leads import move_to_stage
    if not lead.stage.is_sdr:
        raise ServiceError({"stage": "Este lead já não está com o SDR."})
    target = next((s for s in lead.pipeline.stages if not s.is_sdr and not s.is_won and not s.is_lost), None)
    if target is None:
        raise ServiceError({"stage": "O funil não tem etapa de corretor."})
    move_to_stage(lead, target, actor)
    lead.sdr_id = lead.sdr_id or getattr(actor, "id", None)
    lead.owner_id = None
    add_narrative(lead, "qualification", f"Qualificado por {actor.name} (nota {lead.qualification_score}) e "
                                         "enviado aos corretores", author=actor)
    db.session.flush()
    publish("lead.handed_over", lead, actor=actor, score=lead.qualification_score)
    distribute(lead, "broker", actor)
    return lead
