"""What a rule does: the template context, who `to` means, and each action type."""
import json
import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.automation import subjects
from portal.automation.calendar import get_calendar
from portal.automation.deliveries import queue_delivery
from portal.automation.models import Event, Rule, Task
from portal.automation.services import notify
from portal.automation.templating import render
from portal.dbtypes import utcnow
from portal.extensions import db

# ---- context and recipients -------------------------------------------------------------------

def template_context(kind: str | None, obj, event: Event | None = None) -> dict:
    """What a template sees: the record's fields as they were at `event` (EVENT_STATE), and the event itself as
    `evento` (its type and payload; declared keys it lacks are empty rather than an error)."""
    ctx = {"empresa": current_app.config["COMPANY_NAME"], "hoje": utcnow()}
    if kind and obj is not None:
        subject = subjects.SUBJECTS[kind]
        contact = subject.contact(obj)
        owner = subject.owner(obj)
        ctx[kind] = subjects.fields_dict(kind, obj, event)
        ctx["contato"] = {"nome": contact.name, "email": contact.email, "telefone": contact.phone}
        ctx["responsavel"] = {"nome": getattr(owner, "name", None), "email": getattr(owner, "email", None),
                              "telefone": getattr(owner, "phone", None)}
        path = subject.url(obj)
        ctx["link"] = current_app.config["PORTAL_BASE_URL"].rstrip("/") + path if path else ""
    if event is not None:
        payload = {k: _revive(v) for k, v in (event.payload or {}).items()}
        ctx["evento"] = {"tipo": event.type, **dict.fromkeys(subjects.EVENT_FIELDS.get(event.type, {})), **payload}
    return ctx


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _revive(value):
    """Payload dates are stored as ISO text (JSON): give templates the datetime back, for |data and |data_hora."""
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _is_date_key(key: str) -> bool:
    return key in ("at", "due") or key.endswith(("_at", "_due"))


def sample_event(event_type: str | None) -> dict:
    """`evento` with a placeholder for each key the event type declares (validation and previews)."""
    keys = subjects.EVENT_FIELDS.get(event_type or "", {})
    return {"tipo": event_type or "exemplo", **{k: utcnow() if _is_date_key(k) else "exemplo" for k in keys}}


def sample_context(kind: str | None, event_type: str | None = None) -> dict:
    """Placeholder values for every declared field, to validate templates without a record."""
    ctx = {"empresa": "Empresa", "hoje": utcnow(), "link": "https://exemplo/",
           "contato": {"nome": "Nome", "email": "a@b.c", "telefone": "+5511999999999"},
           "responsavel": {"nome": "Nome", "email": "a@b.c", "telefone": "+5511999999999"},
           "evento": sample_event(event_type)}
    if kind:
        sample: dict = {}
        dates = subjects.SUBJECTS[kind].date_fields
        for path in subjects.SUBJECTS[kind].fields:
            node = sample
            parts = path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            # dates get a real datetime so `|data` and `|data_hora` validate like they will render
            node[parts[-1]] = utcnow() if path in dates or _is_date_key(path) else "exemplo"
        ctx[kind] = sample
    return ctx


def _people(target: str, kind: str | None, obj, action: dict) -> list[subjects.Contact]:
    """Who `to` means for this record: the contact, the owner, the owner's manager or fixed addresses."""
    if target == "fixed":
        return [subjects.Contact(email=a.strip(), phone=a.strip()) for a in (action.get("address") or "").split(",")
                if a.strip()]
    if kind is None or obj is None:
        return []
    subject = subjects.SUBJECTS[kind]
    if target == "contact":
        return [subject.contact(obj)]
    owner = subject.owner(obj)
    if target == "manager":
        owner = subjects.manager_of(owner) if owner else None
    if owner is None:
        return []
    return [subjects.Contact(name=owner.name, email=owner.email, phone=owner.phone, user_id=owner.id)]


# ---- actions ----------------------------------------------------------------------------------

def run_actions(rule: Rule, kind: str | None, obj, origin: str, event: Event | None = None) -> list[str]:
    """Carry out the rule's actions once for `origin` (event, due item or schedule slot)."""
    ctx = template_context(kind, obj, event)
    done = []
    subject_id = getattr(obj, "id", None)
    for i, action in enumerate(rule.actions or []):
        key = f"r{rule.id}:{origin}:a{i}"
        kind_of_action = action.get("type")
        if kind_of_action == "message":
            channel = action["channel"]
            attach = subjects.SUBJECTS[kind].attachments if kind and obj is not None else None
            files = attach(obj, event) if attach and channel == "email" else None
            for person in _people(action.get("to", "contact"), kind, obj, action):
                address = person.email if channel == "email" else person.phone
                if not address:
                    continue
                not_before = None
                if channel in ("sms", "whatsapp") and rule.quiet_hours:
                    allowed = get_calendar().after_quiet_hours(utcnow())
                    not_before = allowed if allowed > utcnow() else None
                body = render(action.get("body") or "", ctx)
                if channel == "email":
                    body += unsubscribe_footer(channel, address)
                queue_delivery(channel=channel, recipient=address, recipient_name=person.name,
                               subject=render(action.get("subject") or "", ctx) if channel == "email" else None,
                               body=body, key=f"{key}:{address}",
                               rule_id=rule.id, event_id=getattr(event, "id", None), subject_type=kind,
                               subject_id=subject_id, not_before=not_before, attachments=files)
                done.append(f"{channel}:{address}")
        elif kind_of_action == "notify":
            for person in _people(action.get("to", "owner"), kind, obj, action):
                if person.user_id:
                    path = subjects.SUBJECTS[kind].url(obj) if kind else None
                    notify(person.user_id, render(action.get("subject") or rule.name, ctx),
                           render(action.get("body") or "", ctx), url=path, key=f"{key}:u{person.user_id}")
                    done.append(f"notify:{person.user_id}")
        elif kind_of_action == "task":
            for person in _people(action.get("to", "owner"), kind, obj, action):
                if person.user_id:
                    _create_task(person.user_id, render(action.get("subject") or rule.name, ctx),
                                 render(action.get("body") or "", ctx), kind, subject_id,
                                 int(action.get("due_days") or 0), f"{key}:u{person.user_id}")
                    done.append(f"task:{person.user_id}")
        elif kind_of_action == "webhook":
            document = {"rule": rule.name, "event": getattr(event, "type", None), "subject_type": kind,
                        "subject_id": subject_id, "data": _json_fields(kind, obj, event),
                        "payload": getattr(event, "payload", None) or {}}
            queue_delivery(channel="webhook", recipient=action["url"], body=json.dumps(document, ensure_ascii=False,
                                                                                        default=str),
                           key=key, rule_id=rule.id, event_id=getattr(event, "id", None), subject_type=kind,
                           subject_id=subject_id)
            done.append("webhook")
        elif kind_of_action == "set_field":
            field = action["field"]
            if kind and field in subjects.SUBJECTS[kind].settable and obj is not None:
                setattr(obj, field, _field_value(obj, field, action.get("value")))
                done.append(f"set:{field}")
        elif kind_of_action == "report":
            from portal.reports.services import email_report
            recipients = [p.email for p in _people(action.get("to", "fixed"), kind, obj, action) if p.email]
            email_report(action["report"], action.get("params") or {}, action.get("format") or "pdf", recipients,
                         key=key)
            done.append("report")
    return done


def unsubscribe_footer(channel: str, address: str) -> str:
    """LGPD: every automated e-mail says how to stop receiving them."""
    from portal.automation.services import unsubscribe_token
    from portal.web.urls import external_url
    link = external_url("automation.unsubscribe", token=unsubscribe_token(channel, address))
    return f"\n\n--\nPara não receber mais estas mensagens: {link}"


def _json_fields(kind, obj, event=None):
    if not kind or obj is None:
        return {}
    subject = subjects.SUBJECTS[kind]
    return {path: subjects.plain(subjects.event_value(obj, path, event)) for path in subject.fields
            if path not in subject.link_fields}


def _field_value(obj, field, raw):
    current = getattr(obj, field)
    if isinstance(current, bool):
        return str(raw).strip().lower() in ("1", "true", "sim", "yes")
    if isinstance(current, int):
        return int(raw)
    return raw


def _create_task(user_id, title, body, kind, subject_id, due_days, key):
    if db.session.execute(select(Task.id).where(Task.idempotency_key == key)).first():
        return
    due = utcnow() + timedelta(days=due_days) if due_days else None
    try:
        with db.session.begin_nested():
            db.session.add(Task(assignee_id=user_id, title=title[:200], description=body, subject_type=kind,
                                subject_id=subject_id, due_at=due, idempotency_key=key))
    except IntegrityError:
        pass
