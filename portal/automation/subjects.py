"""What rules can act on. Each module registers its record types (lead, unit, account, ...) with
the fields rules may read, compare, set and use as dates — the engine never imports a module."""
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


def register_subject(subject: SubjectType) -> SubjectType:
    SUBJECTS[subject.kind] = subject
    return subject


def register_event(event_type: str, kind: str, label: str) -> None:
    EVENT_TYPES[event_type] = (kind, label)


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


def plain(v):
    """A value safe to show in a template or store in JSON."""
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def fields_dict(kind: str, obj) -> dict:
    """Nested dict of the declared fields only — templates never see the ORM object."""
    out: dict = {}
    for path in SUBJECTS[kind].fields:
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value(obj, path)
    return out


def manager_of(user):
    """The user's manager: their team's manager, or the parent team's when they manage it themselves."""
    team = getattr(user, "team", None)
    while team is not None:
        if team.manager is not None and team.manager.id != user.id:
            return team.manager
        team = team.parent
    return None
