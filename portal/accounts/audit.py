import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import ROLES, AuditLog
from portal.automation import subjects
from portal.automation.subjects import RecordType, register_audit_actions
from portal.extensions import db

log = logging.getLogger(__name__)


def audit(action: str, obj=None, *, object_type: str | None = None, object_id=None, user=None, **details):
    """Record who did what to which record, when and from where (same transaction as the change)."""
    if action not in subjects.AUDIT_ACTIONS:
        # The Auditoria page would show the key itself; register it with register_audit_actions().
        log.warning("audit action %r has no pt-BR label", action)
    if user is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=object_type or "-",
        object_id=str(object_id) if object_id is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details or None,
    )
    db.session.add(entry)
    return entry


# ---- the Auditoria page: every key shown through the label registry ------------------------------------------

@dataclass
class AuditRow:
    entry: AuditLog
    action: str                       # pt-BR label
    record: str                       # "Conta Viagens Andorinha" / "Lead" (exports of many)
    url: str | None = None
    changes: list[tuple[str, str]] = field(default_factory=list)   # (label, "antes → depois" or value)


FIELD_LISTS = ("fields", "campos")
PAIRS = [("from", "to"), ("before", "after"), ("de", "para"), ("old", "new")]
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")


def _models() -> dict[str, type]:
    return {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}


def _title(record: RecordType | None, obj) -> str | None:
    try:
        if record is not None and record.title is not None:
            return str(record.title(obj))
    except Exception:  # a title that needs a relation the row no longer has must not break the page
        log.debug("audit title failed for %r", obj, exc_info=True)
    for attr in ("name", "title", "number", "email"):
        if getattr(obj, attr, None):
            return str(getattr(obj, attr))
    return None


def _load(wanted: dict[str, set[str]]) -> dict[tuple[str, str], object]:
    """The audited records still present, one query per type."""
    models, found = _models(), {}
    for name, ids in wanted.items():
        model = models.get(name)
        pks = sorted(int(i) for i in ids if i and i.isdigit() and len(i) < 10)
        if model is None or not pks or not hasattr(model, "id"):
            continue
        for obj in db.session.execute(select(model).where(model.id.in_(pks))).scalars():
            found[(name, str(obj.id))] = obj
    return found


def _value(raw, fmt=None, fields: dict | None = None) -> str:
    from portal.web.filters import brl, date_br, datetime_br, number
    if raw is None or raw == "":
        return "—"
    if isinstance(fmt, tuple) and fmt[0] == "change" and isinstance(raw, list):  # stored as [before, after]
        return " → ".join(_value(v, fmt[1], fields) for v in raw)
    if isinstance(fmt, dict):
        return ", ".join(str(fmt.get(v, v)) for v in raw) if isinstance(raw, list) else str(fmt.get(raw, raw))
    if fmt == "brl" and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return brl(raw)
    if isinstance(raw, bool):
        return "Sim" if raw else "Não"
    if isinstance(raw, (int, float)):
        return number(raw)
    if isinstance(raw, list):
        return ", ".join(_value(v) for v in raw) or "—"
    if isinstance(raw, dict):
        return "; ".join(f"{_label(k, fields)}: {_value(v, fields=fields)}" for k, v in raw.items()) or "—"
    if isinstance(raw, str) and _ISO.match(raw):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        if "T" not in raw:
            return date_br(date.fromisoformat(raw))
        return datetime_br(parsed if parsed.tzinfo else parsed.replace(tzinfo=__import__("datetime").timezone.utc))
    return str(raw)


_CODES = re.compile(r"\s*\((código[^)]*|centavos)\)")


def _label(key: str, fields: dict | None = None) -> str:
    if fields and key in fields:
        return _CODES.sub("", fields[key])  # "Fase (código: onboarding, …)" is for the rule editor
    return subjects.DETAIL_LABELS.get(key) or key.replace("_", " ").capitalize()


def _flat(details: dict | None) -> dict:
    """A detail that is itself a dict (an export's filters) reads as its keys: `filters.stage` has its own label
    and reference, registered like any detail key."""
    out = {}
    for key, raw in (details or {}).items():
        if isinstance(raw, dict) and any(f"{key}.{k}" in subjects.DETAIL_LABELS for k in raw):
            out.update({f"{key}.{k}": v for k, v in raw.items()})
        else:
            out[key] = raw
    return out


def _changes(entry: AuditLog, fields: dict, loaded: dict) -> list[tuple[str, str]]:
    details = _flat(entry.details)
    for key in [k for k in details if k.endswith("_id") and k[:-3] in details]:
        del details[key]  # "unit" already names what "unit_id" points at
    for key, raw in details.items():
        ref = subjects.DETAIL_REFS.get(key)
        if ref and raw is not None:
            obj = loaded.get((ref, str(raw)))
            details[key] = (_title(subjects.RECORD_TYPES.get(ref), obj) if obj is not None else None) or \
                f"{getattr(subjects.RECORD_TYPES.get(ref), 'label', ref)} excluído(a)"
    formats = subjects.AUDIT_FORMATS.get(entry.action, {})
    out = []
    for before, after in PAIRS:
        if before in details or after in details:
            old, new = details.pop(before, None), details.pop(after, None)
            out.append(("Mudança", f"{_value(old, formats.get(before), fields)} → "
                                   f"{_value(new, formats.get(after), fields)}"))
    for key, raw in details.items():
        if key in FIELD_LISTS and isinstance(raw, list):  # names of the record's fields that changed
            out.append((_label(key), ", ".join(_label(str(v), fields) for v in raw) or "—"))
        else:
            out.append((_label(key, fields), _value(raw, formats.get(key), fields)))
    return out


def describe(entries: list[AuditLog]) -> list[AuditRow]:
    """Audit entries as a person reads them: pt-BR action, the record by name with a link, changes by label."""
    wanted: dict[str, set[str]] = {}
    for e in entries:
        wanted.setdefault(e.object_type, set()).add(e.object_id)
        for key, raw in _flat(e.details).items():
            if key in subjects.DETAIL_REFS and raw is not None:
                wanted.setdefault(subjects.DETAIL_REFS[key], set()).add(str(raw))
    loaded = _load(wanted)
    rows = []
    for e in entries:
        record = subjects.RECORD_TYPES.get(e.object_type)
        noun = record.label if record else ("—" if e.object_type == "-" else e.object_type)
        obj = loaded.get((e.object_type, e.object_id))
        url = None
        if obj is not None:
            name = _title(record, obj)
            try:
                url = record.url(obj) if record is not None and record.url is not None else None
            except Exception:
                log.debug("audit url failed for %r", obj, exc_info=True)
            text = f"{noun}: {name}" if name else noun
        else:
            gone = (e.details or {}).get("name")
            text = f"{noun}: {gone} (excluído)" if gone else (
                f"{noun} (excluído)" if e.object_id and e.object_id.isdigit() and record else noun)
        rows.append(AuditRow(e, subjects.AUDIT_ACTIONS.get(e.action, e.action), text, url,
                             _changes(e, record.fields if record else {}, loaded)))
    return rows


# Accounts' own audit actions (users, teams, sessions, API clients, background jobs).
register_audit_actions(
    {"user.created": "Usuário criado", "user.updated": "Usuário alterado", "user.activated": "Usuário reativado",
     "user.deactivated": "Usuário desativado", "user.login": "Entrou no Portal",
     "user.login_failed": "Tentativa de acesso recusada", "user.logout": "Saiu do Portal",
     "user.password_changed": "Senha alterada", "user.sessions_ended": "Todas as sessões encerradas",
     "team.created": "Equipe criada", "team.updated": "Equipe alterada",
     "api_client.created": "Cliente de API criado", "api_client.revoked": "Cliente de API revogado",
     "api_client.webhook_rotated": "Segredo de webhook do cliente de API trocado",
     "job.requeued": "Tarefa em segundo plano repetida"},
    records={"Team": RecordType("Equipe", url=lambda t: f"/admin/equipes/{t.id}"),
             "ApiClient": RecordType("Cliente de API", url=lambda c: "/pre-vendas/config/api-clients"),
             "Job": "Tarefa em segundo plano"},
    details={"parent_id": "Equipe superior", "manager_id": "Gestor", "prefix": "Prefixo do token",
             "old_prefix": "Prefixo anterior", "new_prefix": "Prefixo novo", "rate_limit": "Limite de requisições"},
    formats={"user.created": {"role": ROLES}},
    refs={"parent_id": "Team", "manager_id": "User"},
)
