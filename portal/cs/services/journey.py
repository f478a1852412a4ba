"""The journey: phase moves (with history), the onboarding checklist, touchpoints and the cadence dates
they drive (next follow-up, annual visit, RTS), kept in step with the automation engine's due items."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs.models import (ONBOARDING_STEPS, PHASES, TOUCHPOINT_KINDS, Account, Contact, OnboardingStep,
                              PhaseChange, Touchpoint, local_tz, midnight_of, morning_of)
from portal.cs.settings import Settings, get_settings
from portal.dbtypes import utcnow
from portal.extensions import db

CADENCE_FIELDS = ("phase_due_at", "next_follow_up_at", "next_visit_at", "next_rts_at")
RTS_PHASES = ("ongoing", "renewal")
FUTURE_SLACK = timedelta(minutes=5)


def local_date(value: datetime | None) -> date | None:
    return value.astimezone(local_tz()).date() if value is not None else None


def _after(base: datetime | None, days: int | None) -> datetime | None:
    if base is None or not days:
        return None
    return morning_of(local_date(base) + timedelta(days=days))


def refresh_cadence(account: Account, settings: Settings | None = None) -> set[str]:
    """Recompute the phase deadline and the next follow-up / visit / RTS; returns the fields that moved.

    Follow-ups count from the last touchpoint or the phase start, whichever is later (a phase change is a
    fresh start); dates land at 09:00 local so reminders arrive in the morning.
    """
    s = settings or get_settings()
    before = {f: getattr(account, f) for f in CADENCE_FIELDS}
    segment, phase = account.segment, account.phase
    started = account.phase_started_at or utcnow()
    account.phase_due_at = _after(started, s.duration(phase, segment))
    base = max(d for d in (account.last_touchpoint_at, started) if d is not None)
    account.next_follow_up_at = _after(base, s.follow_up_days(segment, phase))
    cadence = s.cadence(segment)
    contract = midnight_of(account.contract_start) if account.contract_start else None
    visit_base = account.last_visit_at or contract or account.created_at or utcnow()
    account.next_visit_at = _after(visit_base, cadence.get("visit_days"))
    rts_base = account.last_rts_at or started
    account.next_rts_at = _after(rts_base, cadence.get("rts_days")) if phase in RTS_PHASES else None
    return {f for f in CADENCE_FIELDS if getattr(account, f) != before[f]}


def reschedule(account: Account, fields=None) -> None:
    """Re-arm the time rules that wait on the given date fields (all account rules when None)."""
    from portal.automation.engine import schedule
    from portal.automation.models import Rule
    stmt = select(Rule).where(Rule.active.is_(True), Rule.trigger == "time", Rule.subject_type == "account")
    if fields is not None:
        fields = set(fields)
        if not fields:
            return
        stmt = stmt.where(Rule.date_field.in_(fields))
    rules = db.session.execute(stmt).scalars().all()
    if rules:
        db.session.flush()
        schedule(account, rules)


# ---- phases ----------------------------------------------------------------------------------------

def change_phase(account: Account, phase: str, user=None, note: str = "", at: datetime | None = None) -> Account:
    """Move the account to another phase; the conditional UPDATE makes two simultaneous moves one.

    `at` records a move that already happened (bringing in a client's history); it cannot be in the future
    nor before the current phase began.
    """
    if phase not in PHASES:
        raise ServiceError({"phase": "Escolha uma fase da jornada."})
    old = account.phase
    if phase == old:
        raise ServiceError({"phase": f"A conta já está em {PHASES[phase]}."})
    now = at or utcnow()
    if at is not None and (at > utcnow() + FUTURE_SLACK or (account.phase_started_at and at < account.phase_started_at)):
        raise ServiceError({"at": "A data da mudança precisa estar entre o início da fase atual e agora."})
    moved = db.session.execute(update(Account).where(Account.id == account.id, Account.phase == old)
                               .values(phase=phase, phase_started_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ServiceError({"phase": "A conta mudou de fase enquanto você editava. Recarregue a página."})
    account.phase, account.phase_started_at = phase, now
    db.session.add(PhaseChange(account_id=account.id, from_phase=old, to_phase=phase, at=now,
                               user_id=getattr(user, "id", None), note=(note or "").strip()[:1000]))
    changed = refresh_cadence(account)
    audit("account.phase_changed", account, user=user, **{"from": old, "to": phase})
    publish("account.phase_changed", account, actor=user, **{"from": old, "to": phase,
                                                              "de": PHASES[old], "para": PHASES[phase],
                                                              "prazo": account.phase_due_br})
    reschedule(account, changed | {"phase_started_at"})
    return account


@dataclass
class PhaseStay:
    phase: str
    entered: datetime
    left: datetime | None
    days: int
    expected: int | None

    @property
    def label(self):
        return PHASES.get(self.phase, self.phase)

    @property
    def late(self) -> bool:
        return self.expected is not None and self.days > self.expected


def phase_history(account: Account, settings: Settings | None = None) -> list[PhaseStay]:
    """Each stay in a phase, oldest first, with its length in days and the expected length."""
    s = settings or get_settings()
    rows = db.session.execute(select(PhaseChange).where(PhaseChange.account_id == account.id)
                              .order_by(PhaseChange.at, PhaseChange.id)).scalars().all()
    now = utcnow()
    stays = []
    for i, row in enumerate(rows):
        left = rows[i + 1].at if i + 1 < len(rows) else None
        days = ((left or now) - row.at).days
        stays.append(PhaseStay(row.to_phase, row.at, left, days, s.duration(row.to_phase, account.segment)))
    return stays


def time_in_phase_totals(stays: list[PhaseStay]) -> dict[str, int]:
    totals = dict.fromkeys(PHASES, 0)
    for stay in stays:
        totals[stay.phase] = totals.get(stay.phase, 0) + stay.days
    return totals


# ---- onboarding checklist -----------------------------------------------------------------------------

def onboarding_steps(account: Account) -> dict[str, OnboardingStep]:
    rows = db.session.execute(select(OnboardingStep).where(OnboardingStep.account_id == account.id)).scalars()
    return {row.step: row for row in rows}


def set_step(account: Account, step: str, done: bool, user=None) -> bool:
    """Check or uncheck one onboarding step; idempotent (the unique key absorbs double clicks)."""
    if step not in ONBOARDING_STEPS:
        raise ServiceError({"step": "Etapa de onboarding desconhecida."})
    if done:
        try:
            with db.session.begin_nested():
                db.session.add(OnboardingStep(account_id=account.id, step=step, done_by_id=getattr(user, "id", None)))
        except IntegrityError:
            return False
        publish("account.onboarding_step", account, actor=user, etapa=ONBOARDING_STEPS[step])
    else:
        if not db.session.execute(delete(OnboardingStep).where(OnboardingStep.account_id == account.id,
                                                               OnboardingStep.step == step)).rowcount:
            return False
    audit("account.onboarding_step", account, user=user, step=step, done=done)
    return True


# ---- touchpoints --------------------------------------------------------------------------------------

def _parse_when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=local_tz())
    if isinstance(value, date):
        return morning_of(value)
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=local_tz())
    raise ValueError("Informe data e hora válidas.")


def log_touchpoint(account: Account, data: dict, user=None) -> Touchpoint:
    """Record a contact with the client and move the cadence dates it satisfies."""
    errors = {}
    kind = data.get("kind") or ""
    if kind not in TOUCHPOINT_KINDS:
        errors["kind"] = "Escolha o tipo de contato."
    summary = (data.get("summary") or "").strip()
    if not summary:
        errors["summary"] = "Conte em poucas palavras o que aconteceu."
    now = utcnow()
    try:
        occurred = _parse_when(data.get("occurred_at")) or now
    except ValueError as exc:
        errors["occurred_at"] = str(exc)
        occurred = now
    if occurred > now + FUTURE_SLACK:
        errors["occurred_at"] = "O contato não pode estar no futuro."
    contact = None
    if data.get("contact_id"):
        contact = db.session.get(Contact, normalize.row_id(data["contact_id"]) or 0)
        if contact is None or contact.account_id != account.id:
            errors["contact_id"] = "Escolha um contato desta conta."
    if errors:
        raise ServiceError(errors)
    decision_maker = bool(data.get("decision_maker")) or bool(contact and contact.decision_maker)
    touchpoint = Touchpoint(account_id=account.id, kind=kind, occurred_at=occurred, summary=summary[:4000],
                            user_id=getattr(user, "id", None), contact_id=getattr(contact, "id", None),
                            decision_maker=decision_maker)
    db.session.add(touchpoint)
    account.last_touchpoint_at = max(d for d in (account.last_touchpoint_at, occurred) if d is not None)
    if kind == "visit":
        account.last_visit_at = max(d for d in (account.last_visit_at, occurred) if d is not None)
    if kind == "ebr":
        account.last_rts_at = max(d for d in (account.last_rts_at, occurred) if d is not None)
    if decision_maker:
        account.sponsor_met_at = max(d for d in (account.sponsor_met_at, occurred) if d is not None)
    changed = refresh_cadence(account)
    db.session.flush()
    from portal.cs.services.alerts import close_alert_tasks
    close_alert_tasks(account, satisfied_by=kind)
    publish("account.touchpoint_logged", account, actor=user, tipo=TOUCHPOINT_KINDS[kind], resumo=summary[:200])
    reschedule(account, changed)
    return touchpoint
