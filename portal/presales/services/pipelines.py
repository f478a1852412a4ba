"""Pipelines, stages and the fields a stage may require (rules: see services/settings.py)."""

from sqlalchemy import func, select

from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales.models import CustomField, Lead, Pipeline, Stage
from portal.presales.services.leads import REQUIRABLE
from portal.realestate.services import parse_name
from portal.web.csv_import import fold
from portal.presales.services.settings import (COLOR, MAX_CONTACT_DAYS, MAX_SLA, STARTER_STAGES, _apply, _check, _count, _flag, _move,
                                               _number, _renumber, _taken)


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
    contact_days = _number(errors, "contact_days", data.get("contact_days"), 1, MAX_CONTACT_DAYS)
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
                                  "sla_minutes": sla, "contact_days": contact_days, "required_fields": required,
                                  **flags}, "stage")
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
