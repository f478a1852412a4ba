"""The seed's CS alerts as default automation rules a CS leader can tune.

Each alert is an ordinary Rule (subject "account"), so it runs in the engine like any régua and an admin
can still open it in the full editor. "Once per condition per period" comes from the engine: an event rule
runs once per event; a time rule runs once per value of its date field (its idempotency key carries the
anchor), and the anchors are chosen so that value is the period:
  * follow-up, RTS, renewal, adoption deadline — the date itself: once per due date;
  * usage up/down — `weekly_at`, a fixed Monday every account shares, repeating every 7 days at 04:00
    (after the 03:00 recompute): evaluated once a week, nothing to re-arm however many accounts;
  * up-sell — the same anchor repeating every 30 days: at most once a month;
  * churn risk — `churn_risk_since` is set when the account turns red or is flagged and cleared when it
    recovers: once per episode, then a weekly reminder while it lasts (repeat_every_days).
Every alert creates a task for the account's CSM (their work list) and e-mails them.
Event alerts read the event, not the account as the worker finds it: the phase alerts speak of `evento.de` /
`evento.para` and test `evento.to`, so two moves committed before the worker runs give two alerts, each about its
own phase. Rules seeded before that (condition on `phase`, title with `account.phase_label`) read the same values,
because account.phase_changed carries the account's phase at the event (EVENT_STATE in cs/rules.py).
"""
from dataclasses import dataclass, field

from sqlalchemy import select, update

from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.models import Rule, Task
from portal.cs.models import AlertRule
from portal.dbtypes import utcnow
from portal.extensions import db

LINK = "\n\nAbrir a conta: {{ link }}"


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    target: str                 # "offset" (days), "repeat" (days) or a condition field
    minimum: int = 0
    maximum: int = 3650
    sign: int = 1               # the stored condition value is sign × the number shown
    suffix: str = "dias"


@dataclass(frozen=True)
class AlertSpec:
    key: str
    name: str
    description: str
    title: str                  # task title / e-mail subject (a template)
    body: str
    trigger: str = "time"
    event_type: str | None = None
    date_field: str | None = None
    offset_days: int = 0        # negative: before the date
    offset_hours: int = 0       # for the weekly anchor: after the nightly recompute
    repeat_every_days: int | None = None
    conditions: tuple = ()
    params: tuple = field(default_factory=tuple)
    closed_by: tuple = ()       # touchpoint kinds that settle the alert's open tasks ("*": any)


ALERTS = [
    AlertSpec("entered_adoption", "CS · Conta entrou em adoção",
              "Quando uma conta passa para a fase Adoção (hora da reunião ou e-mail de adoção).",
              "Entrou em adoção: {{ account.name }}",
              "A conta {{ account.name }} ({{ account.segment_label }}) entrou na fase Adoção. "
              "Prazo previsto da fase: {{ evento.prazo or account.phase_due_br }}.",
              trigger="event", event_type="account.phase_changed",
              conditions=({"field": "evento.to", "op": "eq", "value": "adoption"},)),
    AlertSpec("adoption_overdue", "CS · Adoção além do previsto",
              "Quando a conta continua em Adoção depois do prazo previsto para o seu segmento.",
              "Adoção além do previsto: {{ account.name }}",
              "A conta {{ account.name }} está em Adoção além do previsto ({{ account.phase_due_br }}).",
              date_field="phase_due_at", conditions=({"field": "phase", "op": "eq", "value": "adoption"},),
              params=(Param("offset", "Avisar depois do prazo", "offset"),)),
    AlertSpec("phase_changed", "CS · Conta mudou de fase",
              "Sempre que uma conta muda de fase da jornada.",
              "Mudou de fase: {{ account.name }} → {{ evento.para }}",
              "A conta {{ account.name }} ({{ account.segment_label }}) passou da fase {{ evento.de }} "
              "para a fase {{ evento.para }}.",
              trigger="event", event_type="account.phase_changed"),
    AlertSpec("usage_down", "CS · Uso caiu semana a semana",
              "Uso da última semana fechada abaixo da semana anterior pelo percentual definido.",
              "Uso em queda: {{ account.name }} ({{ account.usage_wow_pct }}%)",
              "O uso de {{ account.name }} caiu {{ account.usage_wow_pct }}% na última semana em relação à anterior.",
              date_field="weekly_at", offset_hours=4, repeat_every_days=7,
              conditions=({"field": "usage_wow_pct", "op": "le", "value": "-30"},),
              params=(Param("threshold", "Queda mínima", "usage_wow_pct", 1, 100, -1, "%"),)),
    AlertSpec("usage_up", "CS · Uso subiu semana a semana",
              "Uso da última semana fechada acima da semana anterior pelo percentual definido.",
              "Uso em alta: {{ account.name }} (+{{ account.usage_wow_pct }}%)",
              "O uso de {{ account.name }} subiu {{ account.usage_wow_pct }}% na última semana.",
              date_field="weekly_at", offset_hours=4, repeat_every_days=7,
              conditions=({"field": "usage_wow_pct", "op": "ge", "value": "30"},),
              params=(Param("threshold", "Alta mínima", "usage_wow_pct", 1, 1000, 1, "%"),)),
    *[AlertSpec(f"renewal_{days}", f"CS · Renovação em {days} dias",
                f"{days} dias antes da data de renovação do contrato.",
                "Renovação em {{ account.renewal_br }}: {{ account.name }}",
                "O contrato de {{ account.name }} renova em {{ account.renewal_br }}. "
                "Saúde: {{ account.grade_label }} ({{ account.health_score }}).",
                date_field="renewal_at", offset_days=-days,
                params=(Param("offset", "Antes da renovação", "offset", 1, 365),))
      for days in (90, 60, 30)],
    AlertSpec("follow_up_due", "CS · Follow-up da cadência",
              "Quando vence o follow-up da cadência do segmento (ex.: Enterprise a cada 45 dias).",
              "Follow-up: {{ account.name }}",
              "Está na hora do follow-up com {{ account.name }} ({{ account.segment_label }}, "
              "{{ account.phase_label }}). Registre o contato no Portal.",
              date_field="next_follow_up_at",
              params=(Param("offset", "Avisar depois do vencimento", "offset", 0, 60),),
              closed_by=("*",)),
    AlertSpec("rts_due", "CS · Reunião de resultados (RTS)",
              "Antes da próxima reunião de resultados (EBR/RTS) prevista pela cadência.",
              "Reunião de resultados: {{ account.name }} ({{ account.next_rts_br }})",
              "Agende a reunião de resultados (RTS) com {{ account.name }}, prevista para {{ account.next_rts_br }}.",
              date_field="next_rts_at", offset_days=-7,
              params=(Param("offset", "Antes da data prevista", "offset", 0, 90),), closed_by=("ebr",)),
    AlertSpec("upsell", "CS · Sinal de up-sell / cross-sell",
              "Engajamento alto, fase Ongoing e poucos produtos contratados (avaliado todo mês).",
              "Oportunidade de expansão: {{ account.name }}",
              "{{ account.name }} tem engajamento {{ account.engagement_score }} em Ongoing com "
              "{{ account.products_count }} produto(s): avalie up-sell / cross-sell.",
              date_field="weekly_at", offset_hours=4, repeat_every_days=30,
              conditions=({"field": "phase", "op": "eq", "value": "ongoing"},
                          {"field": "engagement_score", "op": "ge", "value": "80"},
                          {"field": "products_count", "op": "lt", "value": "3"}),
              params=(Param("engagement", "Engajamento mínimo", "engagement_score", 0, 100, 1, "0 a 100"),
                      Param("products", "Contrata menos de", "products_count", 1, 50, 1, "produtos"))),
    AlertSpec("potential_update", "CS · Atualizar potencial",
              "Quando o potencial de expansão da conta não é revisto há algum tempo.",
              "Atualize o potencial: {{ account.name }}",
              "O potencial de {{ account.name }} ({{ account.potential_br }}) não é revisto há algum tempo.",
              date_field="potential_updated_at", offset_days=90, repeat_every_days=90,
              params=(Param("offset", "Sem revisão há", "offset", 1, 730),
                      Param("repeat", "Repetir a cada", "repeat", 1, 365))),
    AlertSpec("churn_risk", "CS · Risco de churn",
              "Quando a saúde fica vermelha ou o CSM sinaliza risco; repete enquanto o risco durar.",
              "Risco de churn: {{ account.name }}",
              "{{ account.name }} está em risco de churn (saúde {{ account.grade_label }}, nota "
              "{{ account.health_score }}{% if account.risk_flag %}, sinalizado pelo CSM{% endif %}).",
              date_field="churn_risk_since", repeat_every_days=7,
              params=(Param("repeat", "Lembrar de novo a cada", "repeat", 1, 90),)),
]
SPECS = {spec.key: spec for spec in ALERTS}


def _actions(spec: AlertSpec, email: bool = True) -> list[dict]:
    actions = [{"type": "task", "to": "owner", "subject": spec.title, "body": spec.body + LINK}]
    if email:
        actions.append({"type": "message", "channel": "email", "to": "owner",
                        "subject": "[Sucesso do cliente] " + spec.title, "body": spec.body + LINK})
    return actions


def _spec_data(spec: AlertSpec) -> dict:
    """The rule as the automation service's form data (what save_rule validates)."""
    data = {"name": spec.name, "active": True, "subject_type": "account", "trigger": spec.trigger,
            "quiet_hours": True, "business_hours": False, "conditions": [dict(c) for c in spec.conditions],
            "actions": _actions(spec)}
    if spec.trigger == "event":
        data["event_type"] = spec.event_type
    else:
        amount, unit = (spec.offset_hours, "hours") if spec.offset_hours else (abs(spec.offset_days), "days")
        data.update(date_field=spec.date_field, offset_amount=amount, offset_unit=unit,
                    direction="before" if spec.offset_days < 0 else "after",
                    repeat_every_days=spec.repeat_every_days)
    return data


def _rule_data(rule: Rule) -> dict:
    """An existing rule back as form data, so tuning keeps whatever an admin changed in the full editor."""
    minutes = abs(rule.offset_minutes or 0)
    unit = "days" if minutes % 1440 == 0 else "hours" if minutes % 60 == 0 else "minutes"
    amount = minutes // {"days": 1440, "hours": 60, "minutes": 1}[unit]
    return {"name": rule.name, "active": rule.active, "subject_type": rule.subject_type, "trigger": rule.trigger,
            "event_type": rule.event_type, "date_field": rule.date_field, "offset_amount": amount,
            "offset_unit": unit, "direction": "before" if (rule.offset_minutes or 0) < 0 else "after",
            "repeat_every_days": rule.repeat_every_days, "business_hours": rule.business_hours,
            "quiet_hours": rule.quiet_hours, "cron": rule.cron,
            "conditions": [dict(c) for c in rule.conditions or []], "actions": [dict(a) for a in rule.actions or []]}


def mapping() -> dict[str, Rule]:
    rows = db.session.execute(select(AlertRule)).scalars()
    return {row.key: row.rule for row in rows if row.rule is not None}


def ensure_default_rules() -> list[str]:
    """Create the default alert rules that do not exist yet (idempotent; returns the keys created)."""
    from portal.automation.rules import save_rule
    existing = mapping()
    created = []
    for spec in ALERTS:
        if spec.key in existing:
            continue
        rule = save_rule(_spec_data(spec))
        db.session.add(AlertRule(key=spec.key, rule_id=rule.id))
        db.session.flush()
        created.append(spec.key)
    return created


@dataclass
class AlertView:
    spec: AlertSpec
    rule: Rule
    values: dict
    email: bool


def _email_on(rule: Rule) -> bool:
    return any(a.get("type") == "message" and a.get("channel") == "email" for a in rule.actions or [])


def param_value(rule: Rule, param: Param) -> int | None:
    if param.target == "offset":
        return abs(rule.offset_minutes or 0) // 1440
    if param.target == "repeat":
        return rule.repeat_every_days
    for cond in rule.conditions or []:
        if cond.get("field") == param.target:
            try:
                return int(float(str(cond.get("value")).replace(",", "."))) * param.sign
            except ValueError:
                return None
    return None


def alerts() -> list[AlertView]:
    rules = mapping()
    return [AlertView(spec, rules[spec.key], {p.name: param_value(rules[spec.key], p) for p in spec.params},
                      _email_on(rules[spec.key])) for spec in ALERTS if spec.key in rules]


def tune(key: str, data: dict, user=None) -> Rule:
    """Apply the leader's choices (on/off, e-mail, thresholds and days) to the alert's rule."""
    from portal.automation.rules import save_rule
    spec = SPECS.get(key)
    rule = mapping().get(key)
    if spec is None or rule is None:
        raise ServiceError({"key": "Alerta não encontrado."})
    values = _rule_data(rule)
    values["active"] = bool(data.get("active"))
    errors = {}
    for param in spec.params:
        raw = str(data.get(param.name) if data.get(param.name) is not None else "").strip()
        if not raw.lstrip("-").isdigit() or not param.minimum <= int(raw) <= param.maximum:
            errors[param.name] = f"Informe um número entre {param.minimum} e {param.maximum}."
            continue
        number = int(raw)
        if param.target == "offset":
            values["offset_amount"], values["offset_unit"] = number, "days"
        elif param.target == "repeat":
            values["repeat_every_days"] = number
        else:
            for cond in values["conditions"]:
                if cond.get("field") == param.target:
                    cond["value"] = str(number * param.sign)
    if errors:
        raise ServiceError(errors)
    email = bool(data.get("email"))
    has_email = any(a.get("type") == "message" and a.get("channel") == "email" for a in values["actions"])
    if email and not has_email:
        values["actions"] += [a for a in _actions(spec) if a["type"] == "message"]
    elif not email and has_email:
        values["actions"] = [a for a in values["actions"] if not (a.get("type") == "message"
                                                                     and a.get("channel") == "email")]
    rule = save_rule(values, rule)
    audit("cs.alert_tuned", rule, user=user, key=key)
    return rule


# ---- the alerts' tasks in the work list ----------------------------------------------------------------------

def close_alert_tasks(account, satisfied_by: str) -> int:
    """A logged touchpoint settles the open follow-up (any contact) and RTS (an EBR/RTS) tasks."""
    rules = mapping()
    prefixes = [f"r{rules[spec.key].id}:" for spec in ALERTS
                if spec.key in rules and ("*" in spec.closed_by or satisfied_by in spec.closed_by)]
    if not prefixes:
        return 0
    from sqlalchemy import or_
    return db.session.execute(update(Task).where(
        Task.subject_type == "account", Task.subject_id == account.id, Task.done_at.is_(None),
        or_(*[Task.idempotency_key.startswith(p) for p in prefixes])).values(done_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount


def complete_task(task: Task, user=None) -> bool:
    """Mark an alert done from the work list (conditional: a second click changes nothing)."""
    done = db.session.execute(update(Task).where(Task.id == task.id, Task.done_at.is_(None))
                              .values(done_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if done:
        db.session.refresh(task)
        audit("task.completed", task, user=user)
    return bool(done)
