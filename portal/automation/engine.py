"""The rule engine: events and due times in, messages and actions out.

Exactly-once comes from the database, not from luck: an event is claimed by a conditional UPDATE
in the same transaction that writes its effects; every effect carries an idempotency key; the
sweep reads only rows whose indexed due time has passed.
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal import jobs
from portal.automation import subjects
from portal.automation.actions import run_actions
from portal.automation.calendar import get_calendar
from portal.automation.deliveries import recover_expired_leases, retry_on_healed_channels, send_delivery
from portal.automation.models import Delivery, DueItem, Event, Rule
from portal.automation.templating import TemplateProblem
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db

SWEEP_BATCH = 1000

OPERATORS = {
    "eq": "é igual a", "ne": "é diferente de", "lt": "menor que", "le": "menor ou igual a",
    "gt": "maior que", "ge": "maior ou igual a", "contains": "contém", "in": "é um de (separe por vírgula)",
    "empty": "está vazio", "not_empty": "está preenchido",
}


# ---- conditions -----------------------------------------------------------------------------

def _coerce(actual, expected: str):
    if isinstance(actual, bool):
        return actual, str(expected).strip().lower() in ("1", "true", "sim", "yes", "verdadeiro")
    if isinstance(actual, (int, float)) or hasattr(actual, "as_integer_ratio"):
        try:
            return float(actual), float(str(expected).replace(",", "."))
        except ValueError:
            return str(actual), str(expected)
    if isinstance(actual, datetime):
        return actual.isoformat(), str(expected)
    return str(actual).strip().lower(), str(expected).strip().lower()


def condition_holds(obj, cond: dict, event=None) -> bool:
    actual = subjects.event_value(obj, cond["field"], event)
    op, expected = cond["op"], cond.get("value", "")
    if op == "empty":
        return actual in (None, "", [])
    if op == "not_empty":
        return actual not in (None, "", [])
    if actual is None:
        return op == "ne"
    if op == "in":
        options = [v.strip().lower() for v in str(expected).split(",")]
        return str(actual).strip().lower() in options
    a, b = _coerce(actual, expected)
    if op == "contains":
        return str(b) in str(a)
    try:
        return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
    except TypeError:
        return False


def conditions_hold(rule: Rule, obj, event=None) -> bool:
    """As at `event` when there is one: its payload ("evento.<key>") and the record's state it carries."""
    return all(condition_holds(obj, c, event) for c in rule.conditions or [])


def _run_rule(rule: Rule, kind, obj, origin: str, event=None) -> str | None:
    """Run one rule inside a savepoint; a broken template fails that rule only, with its reason."""
    rule.last_run_at = utcnow()
    try:
        with db.session.begin_nested():
            run_actions(rule, kind, obj, origin, event)
    except (TemplateProblem, ServiceError) as exc:  # a misconfigured rule fails alone, with its reason
        rule.last_error = f"{utcnow():%Y-%m-%d %H:%M} UTC: {exc}"
        current_app.logger.warning("rule %s failed: %s", rule.id, exc)
        return f"Régua “{rule.name}”: {exc}"
    rule.last_error = None
    return None


# ---- events -----------------------------------------------------------------------------------

def process_event(event_id: int) -> str:
    """Job: claim the event (once, even with many workers) and apply every matching rule."""
    claimed = db.session.execute(update(Event).where(Event.id == event_id, Event.processed_at.is_(None))
                                 .values(processed_at=utcnow())).rowcount
    if not claimed:
        db.session.rollback()
        return "already-processed"
    event = db.session.get(Event, event_id)
    obj = subjects.load(event.subject_type, event.subject_id) if event.subject_type else None
    rules = db.session.execute(select(Rule).where(Rule.active.is_(True), Rule.trigger == "event",
                                                  Rule.event_type == event.type).order_by(Rule.id)).scalars()
    errors = []
    for rule in rules:
        if rule.subject_type != (event.subject_type or rule.subject_type):
            continue
        if obj is not None and not conditions_hold(rule, obj, event):
            continue
        problem = _run_rule(rule, event.subject_type, obj, f"e{event.id}", event)
        if problem:
            errors.append(problem)
    event.error = "\n".join(errors) or None
    db.session.commit()
    return "processed"


# ---- time rules -------------------------------------------------------------------------------

def compute_due(rule: Rule, anchor: datetime) -> datetime:
    if rule.business_hours and rule.offset_minutes > 0:
        return get_calendar().add_business_minutes(anchor, rule.offset_minutes)
    return anchor + timedelta(minutes=rule.offset_minutes)


def schedule(obj, rules: list[Rule] | None = None, recompute: bool = False) -> None:
    """Keep the due items of `obj` in step with its date fields; modules call it after changing one."""
    kind = subjects.kind_of(obj)
    if rules is None:
        rules = db.session.execute(select(Rule).where(Rule.active.is_(True), Rule.trigger == "time",
                                                      Rule.subject_type == kind)).scalars().all()
    for rule in rules:
        anchor = subjects.value(obj, rule.date_field)
        item = db.session.execute(select(DueItem).where(DueItem.rule_id == rule.id, DueItem.subject_type == kind,
                                                        DueItem.subject_id == obj.id)).scalar_one_or_none()
        if anchor is None:
            if item is not None and item.done_at is None:
                item.done_at = utcnow()
            continue
        if item is not None:
            if item.anchor_at != anchor:  # a new date re-arms the rule for this record
                item.anchor_at, item.due_at, item.done_at, item.fired = anchor, compute_due(rule, anchor), None, 0
            elif recompute and item.done_at is None:
                item.due_at = compute_due(rule, anchor)
            continue
        try:
            with db.session.begin_nested():
                db.session.add(DueItem(rule_id=rule.id, subject_type=kind, subject_id=obj.id, anchor_at=anchor,
                                       due_at=compute_due(rule, anchor)))
        except IntegrityError:
            pass  # a concurrent save made it


def backfill_rule(rule_id: int) -> int:
    """Job: after a time rule is saved, bring every existing record's due item in line (once per change)."""
    rule = db.session.get(Rule, rule_id)
    if rule is None or rule.trigger != "time":
        return 0
    if not rule.active:
        db.session.execute(update(DueItem).where(DueItem.rule_id == rule.id, DueItem.done_at.is_(None))
                           .values(done_at=utcnow()))
        db.session.commit()
        return 0
    model = subjects.SUBJECTS[rule.subject_type].model
    ids = db.session.execute(select(model.id).order_by(model.id)).scalars().all()
    for start in range(0, len(ids), 500):
        for obj in db.session.execute(select(model).where(model.id.in_(ids[start:start + 500]))).scalars():
            schedule(obj, [rule], recompute=True)
        db.session.commit()
    return len(ids)


def sweep_due(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Fire time rules whose due time has passed; reads only due rows (indexed by done_at, due_at)."""
    now = now or utcnow()
    stmt = (select(DueItem).where(DueItem.done_at.is_(None), DueItem.due_at <= now)
            .order_by(DueItem.due_at).limit(limit).with_for_update(skip_locked=True))
    items = db.session.execute(stmt).scalars().all()
    rules = {r.id: r for r in db.session.execute(select(Rule).where(Rule.id.in_({i.rule_id for i in items}))).scalars()}
    for item in items:
        rule = rules.get(item.rule_id)
        obj = subjects.load(item.subject_type, item.subject_id)
        if rule is None or not rule.active or obj is None:
            item.done_at = now
            continue
        anchor = subjects.value(obj, rule.date_field)
        if anchor != item.anchor_at:  # the date moved since: follow it instead of firing
            if anchor is None:
                item.done_at = now
            else:
                item.anchor_at, item.due_at, item.fired = anchor, compute_due(rule, anchor), 0
            continue
        if conditions_hold(rule, obj):
            _run_rule(rule, item.subject_type, obj, f"d{item.id}:{int(anchor.timestamp())}:{item.fired}")
        item.fired += 1
        if rule.repeat_every_days:
            item.due_at = item.due_at + timedelta(days=rule.repeat_every_days)
            while item.due_at <= now:  # a long outage fires once, then keeps the rhythm
                item.due_at += timedelta(days=rule.repeat_every_days)
        else:
            item.done_at = now
    db.session.commit()
    return len(items)


# ---- scheduled rules (cron) ---------------------------------------------------------------------

def next_cron(expr: str, after: datetime) -> datetime:
    tz = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    return croniter(expr, after.astimezone(tz)).get_next(datetime).astimezone(timezone.utc)


def sweep_scheduled(now: datetime | None = None) -> int:
    """Run scheduled rules whose time came; a missed run (worker down) runs once, not once per miss."""
    now = now or utcnow()
    rules = db.session.execute(select(Rule).where(Rule.active.is_(True), Rule.trigger == "schedule",
                                                  Rule.next_run_at <= now).with_for_update(skip_locked=True)
                               ).scalars().all()
    for rule in rules:
        slot = rule.next_run_at
        rule.next_run_at = next_cron(rule.cron, now)
        _run_rule(rule, None, None, f"s{int(slot.timestamp())}")
    db.session.commit()
    return len(rules)


# ---- recovery and the periodic entry point ---------------------------------------------------------

def requeue_stranded(now: datetime | None = None) -> dict:
    """Events and deliveries committed but never handled (a worker died, a job was lost): hand them to
    the queue again; deliveries whose sending lease ended; one more try where a channel healed."""
    now = now or utcnow()
    events = db.session.execute(select(Event.id).where(Event.processed_at.is_(None),
                                                       Event.created_at < now - timedelta(minutes=2))
                                .order_by(Event.id).limit(500)).scalars().all()
    stale = now - timedelta(minutes=5)
    deliveries = db.session.execute(
        select(Delivery.id).where(
            ((Delivery.status == "queued") & (Delivery.created_at < stale)
             & ((Delivery.not_before.is_(None)) | (Delivery.not_before <= now)))
            | ((Delivery.status == "retrying") & (Delivery.retry_at < stale)))  # RQ's retry never came
        .order_by(Delivery.id).limit(500)).scalars().all()
    for event_id in events:
        jobs.enqueue(process_event, event_id, job_id=f"event-{event_id}")
    for delivery_id in deliveries:
        jobs.enqueue(send_delivery, delivery_id, queue_name="high", job_id=f"delivery-{delivery_id}")
    leases = recover_expired_leases(now)
    if events or deliveries or leases:
        current_app.logger.warning("sweep recovered events=%d deliveries=%d leases=%d",
                                   len(events), len(deliveries), leases)
    return {"events": len(events), "deliveries": len(deliveries), "leases": leases,
            "healed": retry_on_healed_channels(now)}


def sweep(now: datetime | None = None) -> dict:
    return {"due": sweep_due(now), "scheduled": sweep_scheduled(now), **requeue_stranded(now)}
