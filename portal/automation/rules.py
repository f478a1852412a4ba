"""Saving rules (réguas): validate trigger, conditions, actions and templates; nothing half-saved."""
from urllib.parse import urlsplit

from croniter import croniter

from portal import jobs, normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation import subjects
from portal.automation.engine import OPERATORS, next_cron
from portal.automation.actions import sample_context
from portal.automation.models import TRIGGERS, Rule
from portal.automation.templating import TemplateProblem, check_syntax, render
from portal.dbtypes import utcnow
from portal.extensions import db

ACTION_TYPES = {"message": "Enviar mensagem", "notify": "Notificar usuário no Portal", "task": "Criar tarefa",
                "webhook": "Chamar webhook", "set_field": "Alterar campo", "report": "Enviar relatório por e-mail"}
CHANNELS = {"email": "E-mail", "sms": "SMS", "whatsapp": "WhatsApp"}
TARGETS = {"contact": "Contato do registro", "owner": "Responsável", "manager": "Gestor do responsável",
           "fixed": "Endereço fixo"}
UNITS = {"minutes": 1, "hours": 60, "days": 1440}


_DURATION_UNITS = [(1440, "dia", "dias"), (60, "hora", "horas"), (1, "minuto", "minutos")]
WEEKDAY_NAMES = {"0": "domingo", "1": "segunda-feira", "2": "terça-feira", "3": "quarta-feira", "4": "quinta-feira",
                 "5": "sexta-feira", "6": "sábado", "7": "domingo"}


def duration_text(minutes: int, business_hours: bool = False) -> str:
    """129600 → "90 dias"; with business hours a day is not 24 h of work, so it counts hours ("2 horas úteis")."""
    from portal.web.filters import number
    minutes = abs(minutes or 0)
    units = _DURATION_UNITS[1:] if business_hours else _DURATION_UNITS
    size, one, many = next(u for u in units if minutes % u[0] == 0)
    amount = minutes // size
    text = f"{number(amount)} {one if amount == 1 else many}"
    return text + (" útil" if amount == 1 else " úteis") if business_hours else text


def cron_text(cron: str | None) -> str:
    """The shapes the editor suggests in words ("toda segunda-feira às 08:00"); anything else as written."""
    parts = (cron or "").split()
    if len(parts) == 5 and parts[0].isdigit() and parts[1].isdigit() and parts[3] == "*":
        at = f"às {int(parts[1]):02d}:{int(parts[0]):02d}"
        if parts[2] == "*" and parts[4] == "*":
            return f"Todo dia {at}"
        if parts[2] == "*" and parts[4] in WEEKDAY_NAMES:
            day = WEEKDAY_NAMES[parts[4]]
            return f"{'Todo' if day in ('sábado', 'domingo') else 'Toda'} {day} {at}"
        if parts[2] == "*" and parts[4] == "1-5":
            return f"De segunda a sexta {at}"
        if parts[2].isdigit() and parts[4] == "*":
            return f"Todo dia {int(parts[2])} do mês {at}"
    return f"Agenda {cron}"


def trigger_text(rule: Rule) -> str:
    """A rule's trigger as the admin reads it: labels of the event and date field, durations in human units."""
    subject = subjects.SUBJECTS.get(rule.subject_type or "")
    if rule.trigger == "event":
        return f"Quando: {subjects.event_label(rule.event_type)}"
    if rule.trigger == "time":
        date = subject.date_fields.get(rule.date_field, rule.date_field) if subject else rule.date_field
        minutes = rule.offset_minutes or 0
        text = f"Na data de “{date}”" if not minutes else \
            f"{duration_text(minutes, rule.business_hours)} {'antes de' if minutes < 0 else 'depois de'} “{date}”"
        if rule.repeat_every_days:
            text += f", repete a cada {duration_text(rule.repeat_every_days * 1440)}"
        return text
    return cron_text(rule.cron)


def available_reports() -> dict:
    try:
        from portal.reports.registry import REPORTS
    except ImportError:  # reports package not built yet
        return {}
    return REPORTS


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def clean_rule(data: dict) -> tuple[dict, dict]:
    """(values for Rule, errors field → message). Field names match the form's (actions-0-body...)."""
    errors: dict[str, str] = {}
    v: dict = {"name": (data.get("name") or "").strip(), "active": bool(data.get("active")),
               "trigger": data.get("trigger") or "", "subject_type": data.get("subject_type") or ""}
    if not v["name"]:
        errors["name"] = "Dê um nome à régua."
    if v["trigger"] not in TRIGGERS:
        errors["trigger"] = "Escolha o gatilho."
    kind = v["subject_type"]
    subject = subjects.SUBJECTS.get(kind)
    if v["trigger"] != "schedule" and subject is None:
        errors["subject_type"] = "Escolha o tipo de registro."
    if v["trigger"] == "schedule":
        kind, subject, v["subject_type"] = "", None, ""

    v.update(event_type=None, date_field=None, offset_minutes=0, repeat_every_days=None, cron=None,
             next_run_at=None, business_hours=bool(data.get("business_hours")), quiet_hours=bool(data.get("quiet_hours")))
    if v["trigger"] == "event":
        event_type = data.get("event_type") or ""
        if event_type not in subjects.EVENT_TYPES or subjects.EVENT_TYPES[event_type][0] != kind:
            errors["event_type"] = "Escolha um evento deste tipo de registro."
        v["event_type"] = event_type
    elif v["trigger"] == "time" and subject is not None:
        if (data.get("date_field") or "") not in subject.date_fields:
            errors["date_field"] = "Escolha uma data do registro."
        v["date_field"] = data.get("date_field")
        amount = _int(data.get("offset_amount"), -1)
        if amount < 0:
            errors["offset_amount"] = "Informe um número inteiro (0 ou mais)."
        minutes = amount * UNITS.get(data.get("offset_unit") or "minutes", 1)
        v["offset_minutes"] = -minutes if data.get("direction") == "before" else minutes
        if v["business_hours"] and v["offset_minutes"] < 0:
            errors["business_hours"] = "Horário comercial só vale para prazos depois da data."
        if data.get("repeat_every_days") not in (None, "", 0, "0"):
            repeat = _int(data.get("repeat_every_days"), 0)
            if repeat <= 0:
                errors["repeat_every_days"] = "Informe quantos dias entre as repetições."
            v["repeat_every_days"] = repeat or None
    elif v["trigger"] == "schedule":
        cron = (data.get("cron") or "").strip()
        if not croniter.is_valid(cron):
            errors["cron"] = "Expressão de agenda inválida (ex.: 0 8 * * 1 = segundas às 08:00)."
        else:
            v["cron"] = cron
            v["next_run_at"] = next_cron(cron, utcnow())

    v["conditions"] = []
    event_fields = subjects.event_fields(event_type=v["event_type"]) if v["event_type"] else {}
    for i, cond in enumerate(data.get("conditions") or []):
        if not cond.get("field"):
            continue
        if subject is None or (cond["field"] not in subject.fields and cond["field"] not in event_fields):
            errors[f"conditions-{i}-field"] = "Campo inválido para este registro."
        if cond.get("op") not in OPERATORS:
            errors[f"conditions-{i}-op"] = "Escolha a comparação."
        v["conditions"].append({"field": cond["field"], "op": cond.get("op"), "value": (cond.get("value") or "").strip()})

    v["actions"] = []
    ctx = sample_context(kind if subject is not None else None, v["event_type"])
    for i, act in enumerate(data.get("actions") or []):
        a_type = act.get("type") or ""
        if not a_type:
            continue
        err = _clean_action(act, subject, ctx)
        for key, message in err.items():
            errors[f"actions-{i}-{key}"] = message
        v["actions"].append({k: act.get(k) for k in ("type", "channel", "to", "address", "subject", "body", "url",
                                                     "field", "value", "due_days", "report", "format") if act.get(k)})
    if not v["actions"] and "name" not in errors:
        errors["actions-0-type"] = "Inclua ao menos uma ação."
    return v, errors


def _clean_action(act: dict, subject, ctx) -> dict:
    errors = {}
    a_type = act.get("type")
    if a_type not in ACTION_TYPES:
        return {"type": "Ação desconhecida."}
    to = act.get("to") or ""
    if a_type in ("message", "notify", "task", "report"):
        allowed = {"fixed"} if a_type == "report" or subject is None else (
            set(TARGETS) if a_type == "message" else {"owner", "manager"})
        if to not in allowed:
            errors["to"] = "Escolha um destinatário válido para esta ação."
        if to == "fixed" and not (act.get("address") or "").strip():
            errors["address"] = "Informe o e-mail ou telefone (separe vários por vírgula)."
    if a_type == "message":
        if act.get("channel") not in CHANNELS:
            errors["channel"] = "Escolha o canal."
        if act.get("channel") == "email" and not (act.get("subject") or "").strip():
            errors["subject"] = "Informe o assunto do e-mail."
        if not (act.get("body") or "").strip():
            errors["body"] = "Escreva a mensagem."
    for name in ("subject", "body"):
        if act.get(name):
            try:
                check_syntax(act[name])
                render(act[name], ctx)
            except TemplateProblem as exc:
                errors[name] = str(exc)
    if a_type == "webhook":
        parts = urlsplit(act.get("url") or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors["url"] = "Informe uma URL http(s) válida."
    if a_type == "set_field" and (subject is None or act.get("field") not in subject.settable):
        errors["field"] = "Este campo não pode ser alterado por régua."
    if a_type == "task" and act.get("due_days") not in (None, "") and _int(act.get("due_days"), -1) < 0:
        errors["due_days"] = "Prazo em dias inválido."
    if a_type == "report":
        if act.get("report") not in available_reports():
            errors["report"] = "Escolha um relatório."
    return errors


def save_rule(data: dict, rule: Rule | None = None) -> Rule:
    values, errors = clean_rule(data)
    if errors:
        raise ServiceError(errors)
    created = rule is None
    rule = rule or Rule()
    for key, value in values.items():
        setattr(rule, key, value)
    db.session.add(rule)
    db.session.flush()
    audit("rule.created" if created else "rule.updated", rule, trigger=rule.trigger)
    if rule.trigger == "time":
        from portal.automation.engine import backfill_rule
        jobs.enqueue_after_commit(db.session, backfill_rule, rule.id, queue_name="low")
    return rule


def preview(data: dict, record) -> list[dict]:
    """Render each message/notification of an unsaved rule against a real record."""
    from portal.automation.actions import sample_event, template_context
    kind = data.get("subject_type") or None
    event_type = data.get("event_type") if data.get("trigger") == "event" else None
    ctx = template_context(kind, record) if record is not None else sample_context(kind, event_type)
    ctx.setdefault("evento", sample_event(event_type))
    out = []
    for act in data.get("actions") or []:
        if not act.get("type"):
            continue
        item = {"type": ACTION_TYPES.get(act["type"], act["type"]), "channel": CHANNELS.get(act.get("channel"), "")}
        try:
            item["subject"] = render(act.get("subject") or "", ctx)
            item["body"] = render(act.get("body") or "", ctx)
        except TemplateProblem as exc:
            item["error"] = str(exc)
        out.append(item)
    return out
