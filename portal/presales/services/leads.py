"""Operations on one lead: narratives, stage moves (with required fields), qualification, lost/won."""
from sqlalchemy import select

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import (BUDGET_RANGES, CONTACT_KINDS, FIT_LEVELS, INTEREST_LEVELS, NARRATIVE_KINDS,
                                    TIMEFRAMES, CustomField, Lead, LossReason, Narrative, Stage)

# Fields a stage may require before a lead enters it: lead attribute → pt-BR label.
REQUIRABLE = {"email": "E-mail", "phone": "Telefone", "development_id": "Empreendimento", "media_id": "Mídia",
              "interest_level": "Nível de interesse", "budget_range": "Faixa de orçamento",
              "fit": "Aderência ao empreendimento", "timeframe": "Prazo de compra"}
QUALIFICATION = {"interest_level": INTEREST_LEVELS, "budget_range": BUDGET_RANGES, "fit": FIT_LEVELS,
                 "timeframe": TIMEFRAMES}
SCORE = {"interest_level": {"low": 10, "medium": 20, "high": 30}, "budget_range": {k: 20 for k in BUDGET_RANGES if k},
         "fit": {"partial": 10, "yes": 25}, "timeframe": {"now": 25, "3m": 20, "6m": 10, "later": 5}}


def qualification_score(lead: Lead) -> int:
    """0–100 from the four SDR criteria (interest 30, budget 20, fit 25, timeframe 25)."""
    return sum(SCORE[field].get(getattr(lead, field) or "", 0) for field in SCORE)


def add_narrative(lead: Lead, kind: str, body: str = "", author=None, channel=None, media=None, **data) -> Narrative:
    if kind not in NARRATIVE_KINDS:
        raise ServiceError({"kind": "Tipo de registro inválido."})
    narrative = Narrative(lead=lead, kind=kind, body=body or "", author_id=getattr(author, "id", None),
                          channel_id=getattr(channel, "id", None), media_id=getattr(media, "id", None), data=data)
    db.session.add(narrative)
    if kind in CONTACT_KINDS:
        now = utcnow()
        lead.last_contact_at = now
        if lead.first_response_at is None and author is not None and author.id == lead.owner_id:
            lead.first_response_at = now  # the owner's first real contact stops the first-response clock
    return narrative


def log_contact(lead: Lead, kind: str, body: str, author) -> Narrative:
    """A user's own entry on the lead page (note, call, e-mail, WhatsApp, visit, meeting)."""
    if kind not in ("note",) + CONTACT_KINDS:
        raise ServiceError({"kind": "Escolha o tipo: anotação, ligação, e-mail, WhatsApp, visita ou reunião."})
    if not (body or "").strip():
        raise ServiceError({"body": "Descreva o que aconteceu."})
    narrative = add_narrative(lead, kind, body.strip(), author=author)
    db.session.flush()
    publish("lead.contacted" if kind in CONTACT_KINDS else "lead.noted", lead, actor=author, kind=kind)
    return narrative


def custom_fields() -> list[CustomField]:
    return db.session.execute(select(CustomField).order_by(CustomField.position, CustomField.id)).scalars().all()


def required_labels(stage: Stage) -> dict[str, str]:
    labels = dict(REQUIRABLE)
    labels.update({f"custom:{f.key}": f.label for f in custom_fields()})
    return {f: labels.get(f, f) for f in stage.required_fields or []}


def missing_fields(lead: Lead, stage: Stage) -> dict[str, str]:
    missing = {}
    for field, label in required_labels(stage).items():
        value = (lead.custom or {}).get(field[7:]) if field.startswith("custom:") else getattr(lead, field, None)
        if value in (None, ""):
            missing[field] = f"{label} é obrigatório para entrar em “{stage.name}”."
    return missing


def _apply_contact(lead: Lead, field: str, raw: str) -> None:
    """A phone/e-mail typed in the stage form: normalized, and its duplicate key held by this lead."""
    from sqlalchemy.exc import IntegrityError

    from portal import normalize
    from portal.presales.models import LeadContactKey
    from portal.presales.services import dedup
    from portal.presales.services.config import get_settings
    try:
        value = getattr(normalize, field)(raw)
    except normalize.InvalidValue as exc:
        raise ServiceError({field: str(exc)}) from None
    if value == getattr(lead, field):
        return
    settings = get_settings()
    keys = dedup.contact_keys(value if field == "email" else None, value if field == "phone" else None,
                              lead.development_id, settings)
    other = dedup.find_blocking(keys, settings)
    if other is not None and other.id != lead.id:
        raise ServiceError({field: f"{REQUIRABLE[field]} já pertence ao lead {other.number}."})
    try:
        with db.session.begin_nested():
            for key, scope in keys:
                if other is None:
                    db.session.add(LeadContactKey(key=key, scope=scope, lead_id=lead.id))
            db.session.flush()
    except IntegrityError:
        raise ServiceError({field: f"{REQUIRABLE[field]} já pertence a outro lead."}) from None
    setattr(lead, field, value)


def apply_values(lead: Lead, values: dict) -> None:
    """Set qualification/contact/custom values typed in the stage form or the lead page."""
    from portal.presales.models import Media
    from portal.realestate.models import Development
    for field in ("email", "phone"):
        if (values.get(field) or "").strip():
            _apply_contact(lead, field, values[field])
    for field, model in (("development_id", Development), ("media_id", Media)):
        if values.get(field):
            row = db.session.get(model, normalize.row_id(values[field]) or 0)
            if row is None:
                raise ServiceError({field: "Opção inválida."})
            setattr(lead, field, row.id)
    for field, options in QUALIFICATION.items():
        if field in values:
            if values[field] not in options:
                raise ServiceError({field: "Opção inválida."})
            setattr(lead, field, values[field])
    custom = dict(lead.custom or {})
    for f in custom_fields():
        key = f"custom:{f.key}"
        if key in values:
            value = (values[key] or "").strip()
            if value and f.kind == "number":
                try:
                    float(value.replace(",", "."))
                except ValueError:
                    raise ServiceError({key: f"{f.label}: informe um número."}) from None
            if value and f.kind == "choice" and value not in (f.choices or []):
                raise ServiceError({key: f"{f.label}: escolha uma das opções."})
            custom[f.key] = value
    lead.custom = custom
    lead.qualification_score = qualification_score(lead)


def move_to_stage(lead: Lead, stage: Stage, actor, values: dict | None = None,
                  loss_reason_id: int | None = None) -> Lead:
    """Move a lead; refuses (nothing changed) when the stage's required fields are empty."""
    if stage.pipeline_id != lead.pipeline_id:
        raise ServiceError({"stage": "Etapa de outro funil."})
    if lead.status != "open" and not (stage.is_won or stage.is_lost):
        reopen = True
    else:
        reopen = False
    values = dict(values or {})
    when = values.pop("scheduled_at", None)
    schedule_kind = values.pop("schedule_kind", None) or "visit"
    if values:
        apply_values(lead, values)
    missing = missing_fields(lead, stage)
    if stage.is_lost and not loss_reason_id:
        missing["loss_reason_id"] = "Informe o motivo da perda."
    if stage.requires_schedule and stage.id != lead.stage_id and when is None:
        missing["scheduled_at"] = f"Informe data e hora do agendamento para entrar em “{stage.name}”."
    if missing:
        raise ServiceError(missing)
    if stage.id == lead.stage_id:
        return lead
    previous = lead.stage
    if when is not None:
        from portal.presales.services.schedules import add_schedule
        add_schedule(lead, actor, schedule_kind, when)
    from portal.presales.services.sla import stage_due
    now = utcnow()
    lead.stage, lead.stage_id, lead.stage_entered_at = stage, stage.id, now
    lead.stage_due_at, lead.stage_breached_at = stage_due(stage, now), None
    if stage.is_lost:
        _close(lead, "lost", actor, db.session.get(LossReason, loss_reason_id))
    elif stage.is_won:
        _close(lead, "won", actor)
    elif reopen:
        lead.status, lead.closed_at, lead.loss_reason_id = "open", None, None
    add_narrative(lead, "stage", f"{previous.name} → {stage.name}", author=actor, from_stage=previous.id,
                  to_stage=stage.id)
    db.session.flush()
    publish("lead.stage_changed", lead, actor=actor, from_stage=previous.name, to_stage=stage.name)
    if stage.handoff:
        from portal.presales.services.handoff import request_handoff
        request_handoff(lead)
    from portal.automation.engine import schedule as schedule_rules
    schedule_rules(lead)
    return lead


def _close(lead: Lead, status: str, actor, reason: LossReason | None = None) -> None:
    lead.status, lead.closed_at = status, utcnow()
    if status == "lost":
        if reason is None:
            raise ServiceError({"loss_reason_id": "Motivo de perda inválido."})
        lead.loss_reason_id = reason.id
    lead.queue_id = None


def _terminal_stage(lead: Lead, won: bool) -> Stage | None:
    return next((s for s in lead.pipeline.stages if (s.is_won if won else s.is_lost)), None)


def mark_lost(lead: Lead, actor, loss_reason_id: int | None, note: str = "") -> Lead:
    reason = db.session.get(LossReason, loss_reason_id) if loss_reason_id else None
    if reason is None:
        raise ServiceError({"loss_reason_id": "Informe o motivo da perda."})
    stage = _terminal_stage(lead, won=False)
    if stage is not None:
        move_to_stage(lead, stage, actor, loss_reason_id=reason.id)
    else:
        _close(lead, "lost", actor, reason)
        publish("lead.stage_changed", lead, actor=actor)
    add_narrative(lead, "system", f"Perdido: {reason.name}" + (f" — {note}" if note else ""), author=actor)
    db.session.flush()
    publish("lead.lost", lead, actor=actor, reason=reason.name)
    audit("lead.lost", lead, reason=reason.name)
    return lead


def mark_won(lead: Lead, actor, note: str = "") -> Lead:
    stage = _terminal_stage(lead, won=True)
    if stage is not None:
        move_to_stage(lead, stage, actor)
    else:
        _close(lead, "won", actor)
    add_narrative(lead, "system", "Ganho" + (f" — {note}" if note else ""), author=actor)
    db.session.flush()
    publish("lead.won", lead, actor=actor)
    return lead


def qualify(lead: Lead, actor, values: dict, note: str = "") -> Lead:
    apply_values(lead, values)
    add_narrative(lead, "qualification", note or "Qualificação atualizada", author=actor,
                  score=lead.qualification_score, **{k: getattr(lead, k) for k in QUALIFICATION})
    db.session.flush()
    publish("lead.qualified", lead, actor=actor, score=lead.qualification_score)
    return lead
