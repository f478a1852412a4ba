"""The one registry of what the product names, in pt-BR.

What rules can act on: each module registers its record types (lead, unit, account, ...) with the fields rules may
read, compare, set and use as dates, and the events it publishes — the engine never imports a module. The audit log
reads the same registry: each module registers its audit actions and the record types it audits, so no page has
to show an internal key (`account.phase_changed`, `Account #13`, `potential_updated_at`)."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable

from portal.extensions import db


@dataclass
class Contact:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    user_id: int | None = None


@dataclass
class SubjectType:
    kind: str                      # "lead", "unit", "account", "user" ...
    model: type
    label: str                     # pt-BR, for the rule editor
    fields: dict[str, str]         # dotted attribute path → pt-BR label (what templates and conditions see)
    date_fields: dict[str, str] = field(default_factory=dict)
    settable: dict[str, str] = field(default_factory=dict)   # fields a rule may change
    contact: Callable = lambda obj: Contact()                 # the record's person (lead, buyer, account contact)
    owner: Callable = lambda obj: None                        # the responsible user
    url: Callable = lambda obj: None                          # path to open the record
    title: Callable = str                                     # how to name the record in lists
    attachments: Callable | None = None                       # (obj, event) → [{path, filename, mimetype}] for e-mails
    # Fields that mint a personal link (survey tokens): printed in messages, never sent to webhooks, where
    # reading them would issue a token nobody was sent.
    link_fields: tuple = ()


SUBJECTS: dict[str, SubjectType] = {}
EVENT_TYPES: dict[str, tuple[str, str]] = {}  # event type → (subject kind, pt-BR label)
# What an event carries, for the rule editor: payload key → pt-BR label. Conditions read it as "evento.<key>",
# templates as {{ evento.<key> }}.
EVENT_FIELDS: dict[str, dict[str, str]] = {}
# The record's state at the event: subject field → payload key. The worker may run after the record moved on
# (two phase changes committed before it picks the first up), so a rule reads these fields from the event.
EVENT_STATE: dict[str, dict[str, str]] = {}
EVENT_PREFIX = "evento."


@dataclass
class RecordType:
    """How the audit log names a record type and opens one record."""
    label: str                       # pt-BR noun: "Conta", "Régua"
    title: Callable | None = None    # obj → readable name (default: its `name`)
    url: Callable | None = None      # obj → path, or None
    fields: dict[str, str] = field(default_factory=dict)  # attribute → pt-BR label, for "campos alterados"


AUDIT_ACTIONS: dict[str, str] = {}        # audit action → pt-BR label ("Régua criada")
RECORD_TYPES: dict[str, RecordType] = {}  # model class name (AuditLog.object_type) → RecordType
# How to show one action's detail values: key → {code: label}, "brl" (centavos), or ("change", {code: label}) for
# a change stored as [before, after].
AUDIT_FORMATS: dict[str, dict[str, dict | str | tuple]] = {}
# Detail keys holding another record's id ("development_id" → "Development"): shown by that record's name.
DETAIL_REFS: dict[str, str] = {}
# Audit detail keys that mean the same thing wherever they appear; a record type's own fields take precedence.
DETAIL_LABELS: dict[str, str] = {
    "fields": "Campos alterados", "campos": "Campos alterados", "name": "Nome", "reason": "Motivo",
    "motivo": "Motivo", "trigger": "Gatilho", "channel": "Canal", "references": "Registros que ainda o usam",
    "created": "Criados", "updated": "Atualizados", "unchanged": "Sem mudança", "count": "Quantidade",
    "email": "E-mail", "role": "Perfil", "active": "Ativo", "day": "Data", "to": "Para", "from": "De",
    "before": "Antes", "after": "Depois", "status": "Situação", "scope": "Permissões", "scopes": "Permissões",
    "rows": "Linhas", "filters": "Filtros", "reopened_reason": "Motivo da reabertura", "team": "Equipe",
    "towers_created": "Torres criadas", "products_created": "Produtos criados", "unit": "Unidade",
    "total_cents": "Total", "method": "Forma de pagamento", "installments": "Parcelas", "note": "Observação",
}


def register_subject(subject: SubjectType) -> SubjectType:
    SUBJECTS[subject.kind] = subject
    RECORD_TYPES.setdefault(subject.model.__name__, RecordType(subject.label, subject.title, subject.url,
                                                                subject.fields))
    return subject


_PARTICIPLES = {"created": "criad", "updated": "alterad", "deleted": "excluíd", "deactivated": "desativad"}


def lifecycle_labels(prefix: str, noun: str, feminine: bool = False,
                     verbs: tuple = ("created", "updated", "deleted")) -> dict[str, str]:
    """("tower", "Torre", feminine=True) → {"tower.created": "Torre criada", "tower.updated": "Torre alterada"…}"""
    return {f"{prefix}.{verb}": f"{noun} {_PARTICIPLES[verb]}{'a' if feminine else 'o'}" for verb in verbs}


def register_audit_actions(actions: dict[str, str], records: dict[str, RecordType | str] | None = None,
                           details: dict[str, str] | None = None,
                           formats: dict[str, dict[str, dict | str | tuple]] | None = None,
                           refs: dict[str, str] | None = None) -> None:
    """A module names what it writes to the audit log: actions → label, record types (model class name → label or
    RecordType), detail keys of its own → label, and per action how to show a detail's value (codes → labels,
    "brl", "date") and detail keys that hold another record's id (key → model class name). A test fails when an
    audited action has no label here."""
    AUDIT_ACTIONS.update(actions)
    DETAIL_REFS.update(refs or {})
    AUDIT_FORMATS.update(formats or {})
    for name, record in (records or {}).items():
        RECORD_TYPES[name] = record if isinstance(record, RecordType) else RecordType(record)
    DETAIL_LABELS.update(details or {})


def register_event(event_type: str, kind: str, label: str, payload: dict[str, str] | None = None,
                   state: dict[str, str] | None = None) -> None:
    EVENT_TYPES[event_type] = (kind, label)
    EVENT_FIELDS[event_type] = dict(payload or {})
    EVENT_STATE[event_type] = dict(state or {})


def event_label(event_type: str | None) -> str:
    return EVENT_TYPES[event_type][1] if event_type in EVENT_TYPES else (event_type or "—")


def placeholders(kind: str | None, event_type: str | None = None) -> list[tuple[str, str]]:
    """Every {{ name }} a message of a rule on `kind` (and `event_type`) may use, with its pt-BR label."""
    out = [("empresa", "Nome da empresa"), ("hoje", "Data de hoje (use com |data)")]
    subject = SUBJECTS.get(kind or "")
    if subject is not None:
        out += [("contato.nome", "Contato: nome"), ("contato.email", "Contato: e-mail"),
                ("contato.telefone", "Contato: telefone"), ("responsavel.nome", "Responsável: nome"),
                ("responsavel.email", "Responsável: e-mail"), ("responsavel.telefone", "Responsável: telefone"),
                ("link", "Link para abrir o registro no Portal")]
        out += [(f"{kind}.{path}", f"{subject.label}: {label}") for path, label in subject.fields.items()]
    if event_type:
        out.append(("evento.tipo", "Evento: tipo (código)"))
        out += [(EVENT_PREFIX + key, "Evento: " + label) for key, label in EVENT_FIELDS.get(event_type, {}).items()]
    return out


def event_fields(kind: str | None = None, event_type: str | None = None) -> dict[str, str]:
    """Payload fields rules may compare ("evento.<key>" → label), of one event type or of every event of `kind`."""
    types = [event_type] if event_type else [e for e, (k, _) in EVENT_TYPES.items() if kind is None or k == kind]
    labels: dict[str, list[str]] = {"tipo": ["tipo (código)"]} if types else {}
    for name in types:
        for key, label in EVENT_FIELDS.get(name, {}).items():
            if label not in labels.setdefault(key, []):
                labels[key].append(label)
    return {EVENT_PREFIX + key: "Evento: " + " / ".join(names) for key, names in labels.items()}


def kind_of(obj) -> str:
    for subject in SUBJECTS.values():
        if isinstance(obj, subject.model):
            return subject.kind
    raise LookupError(f"{type(obj).__name__} is not a registered subject")


def load(kind: str, pk: int):
    subject = SUBJECTS.get(kind)
    return db.session.get(subject.model, pk) if subject and pk is not None else None


def value(obj, path: str):
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def event_value(obj, path: str, event=None):
    """A field as a rule sees it: the event's payload for "evento.<key>", the record's state at the event when
    the event carries it (EVENT_STATE), else the record as it is now."""
    payload = getattr(event, "payload", None) or {}
    if path.startswith(EVENT_PREFIX):
        key = path[len(EVENT_PREFIX):]
        return payload[key] if key in payload else getattr(event, "type", None) if key == "tipo" else None
    key = EVENT_STATE.get(getattr(event, "type", None), {}).get(path)
    if key is not None and key in payload:
        return payload[key]
    return value(obj, path)


def plain(v):
    """A value safe to show in a template or store in JSON."""
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def fields_dict(kind: str, obj, event=None) -> dict:
    """Nested dict of the declared fields only (as at `event`) — templates never see the ORM object."""
    out: dict = {}
    for path in SUBJECTS[kind].fields:
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = event_value(obj, path, event)
    return out


def manager_of(user):
    """The user's manager: their team's manager, or the parent team's when they manage it themselves."""
    team = getattr(user, "team", None)
    while team is not None:
        if team.manager is not None and team.manager.id != user.id:
            return team.manager
        team = team.parent
    return None
