"""Churn records (cancellation, non-renewal, downgrade) with MRR lost, a reason from the editable taxonomy
and the autopsy; MRR expansions; logo and revenue churn, gross and net revenue retention per month and over
the trailing 12 months.

Period figures: the base is the accounts created before the period that had not been lost (cancellation or
non-renewal) before it. Starting MRR = those accounts' current MRR (excluding accounts lost since) plus every
MRR lost by them from the period's first day on, minus every expansion since — the MRR they had when the
period began, as far as the records tell. In the period: churned MRR = cancellations and non-renewals,
contraction MRR = downgrades, expansion MRR = expansions (portal/cs/retention_models.py says why and how
they are recorded).
  logo churn = accounts lost / base accounts; revenue churn = (churned + contraction) / starting MRR
  GRR = (starting − churned − contraction) / starting; NRR = (starting − churned − contraction + expansion)
  / starting."""
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.audit import audit
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs.models import Account, local_today, local_tz, midnight_of
from portal.cs.nps_models import CHURN_KINDS, LOGO_KINDS, Churn, ChurnReason
from portal.cs.retention_models import MrrChange, mark_recorded
from portal.cs.services.accounts import parse_date, parse_money_cents
from portal.extensions import db
from portal.web.filters import brl

MAX_MRR_CENTS = 10**13  # beyond any real MRR (R$ 100 bilhões); a bigger figure is a typo

DEFAULT_REASONS = ("Percepção de valor", "Suporte", "Falta de uso", "Inadimplência", "Decisão top-down",
                   "Experiência", "Produto não evolui", "Concorrente")  # the CS seed's taxonomy


def ensure_default_reasons() -> None:
    """The migration seeds the taxonomy; an emptied table (tests, fresh schema) gets it back."""
    if db.session.execute(select(ChurnReason.id).limit(1)).first() is None:
        db.session.add_all(ChurnReason(name=name, active=True) for name in DEFAULT_REASONS)
        db.session.flush()


def active_reasons() -> list[ChurnReason]:
    ensure_default_reasons()
    return db.session.execute(select(ChurnReason).where(ChurnReason.active.is_(True))
                              .order_by(ChurnReason.name)).scalars().all()


def all_reasons() -> list[ChurnReason]:
    ensure_default_reasons()
    return db.session.execute(select(ChurnReason).order_by(ChurnReason.name)).scalars().all()


def save_reason(data: dict, reason: ChurnReason | None = None) -> ChurnReason:
    name = (data.get("name") or "").strip()
    if not name:
        raise ServiceError({"name": "Informe o nome do motivo."})
    clash = db.session.execute(select(ChurnReason.id).where(func.lower(ChurnReason.name) == name.lower())).scalar()
    if clash is not None and (reason is None or clash != reason.id):
        raise ServiceError({"name": "Já existe um motivo com esse nome."})
    if reason is None:
        reason = ChurnReason(name=name[:120], active=True)
        db.session.add(reason)
    else:
        reason.name = name[:120]
        if "active" in data:
            reason.active = str(data.get("active")).lower() in ("1", "true", "on", "sim")
    db.session.flush()
    return reason


def record_churn(account: Account, data: dict, user=None) -> Churn:
    errors = {}
    kind = data.get("kind") or ""
    if kind not in CHURN_KINDS:
        errors["kind"] = "Escolha o tipo: cancelamento, não renovação ou downgrade."
    try:
        churn_date = parse_date(data.get("churn_date"))
        if churn_date is None:
            errors["churn_date"] = "Informe a data."
    except (ServiceError, ValueError):
        churn_date = None
        errors["churn_date"] = "Data inválida (use dd/mm/aaaa)."
    raw_mrr = data.get("mrr_lost")
    mrr = None
    if raw_mrr in (None, "") and kind in LOGO_KINDS:
        mrr = account.mrr_cents
    else:
        try:
            mrr = parse_money_cents(raw_mrr)
        except (ValueError, ArithmeticError):
            errors["mrr_lost"] = "Valor inválido."
        if mrr is not None and mrr > MAX_MRR_CENTS:
            errors["mrr_lost"] = "Valor inválido."
    if mrr is not None and mrr <= 0 and "mrr_lost" not in errors:
        errors["mrr_lost"] = "Informe o MRR perdido."
    reason = None
    try:
        reason = db.session.get(ChurnReason, int(data.get("reason_id") or 0))
    except (TypeError, ValueError):
        pass
    if reason is None or not reason.active:
        errors["reason_id"] = "Escolha o motivo."
    if errors:
        raise ServiceError(errors)
    churn = Churn(account_id=account.id, kind=kind, churn_date=churn_date, mrr_lost_cents=mrr, reason_id=reason.id,
                  csm_id=account.csm_id, segment=account.segment, created_by_id=getattr(user, "id", None),
                  what_happened=(data.get("what_happened") or "").strip(), signals=(data.get("signals") or "").strip(),
                  changes=(data.get("changes") or "").strip())
    db.session.add(churn)
    db.session.flush()
    return churn


def record_expansion(account: Account, data: dict, user=None) -> MrrChange:
    """The account now pays more: its new MRR, from which date, and why (upsell, new product, more users)."""
    errors = {}
    try:
        new_mrr = parse_money_cents(data.get("new_mrr"))
    except (ValueError, ArithmeticError):
        new_mrr = None
        errors["new_mrr"] = "Valor inválido."
    if new_mrr is not None and new_mrr <= account.mrr_cents:
        errors["new_mrr"] = (f"Informe um MRR maior que o atual ({brl(account.mrr_cents)}). Perda de receita é "
                             "registrada como downgrade (churn).")
    elif new_mrr is not None and new_mrr > MAX_MRR_CENTS:
        errors["new_mrr"] = "Valor alto demais."
    try:
        change_date = parse_date(data.get("change_date")) or local_today()
    except ValueError:
        change_date = None
        errors["change_date"] = "Data inválida (use dd/mm/aaaa)."
    if change_date is not None and change_date > local_today():
        errors["change_date"] = "A data não pode estar no futuro."
    elif change_date is not None and account.created_at and change_date < account.created_at.astimezone(
            local_tz()).date():
        errors["change_date"] = "A data é anterior ao início da conta."
    if errors:
        raise ServiceError(errors)
    change = MrrChange(account_id=account.id, kind="expansion", change_date=change_date,
                       amount_cents=new_mrr - account.mrr_cents, mrr_before_cents=account.mrr_cents,
                       mrr_after_cents=new_mrr, csm_id=account.csm_id, segment=account.segment, source="manual",
                       note=(data.get("note") or "").strip()[:2000], created_by_id=getattr(user, "id", None))
    mark_recorded(account, new_mrr)
    account.mrr_cents = new_mrr
    db.session.add(change)
    db.session.flush()
    audit("account.mrr_expanded", account, user=user, before=change.mrr_before_cents, after=new_mrr,
          date=change_date.isoformat())
    publish("account.mrr_expanded", account, actor=user, mrr_anterior=brl(change.mrr_before_cents),
            mrr_novo=brl(new_mrr), expansao=brl(change.amount_cents))
    return change


def expansions(user, limit: int = 200) -> list[MrrChange]:
    return db.session.execute(scoped(user, MrrChange).where(MrrChange.kind == "expansion")
                              .options(selectinload(MrrChange.account), selectinload(MrrChange.csm))
                              .order_by(MrrChange.change_date.desc(), MrrChange.id.desc()).limit(limit)
                              ).scalars().all()


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def period_figures(user, first: date, end: date) -> dict:
    """Logo and revenue churn, GRR and NRR over [first, end) for the accounts in the user's scope that were
    clients when the period began (accounts won during the period are not part of its retention)."""
    accounts = db.session.execute(scoped(user, Account, Account.id, Account.mrr_cents)
                                  .where(Account.created_at < midnight_of(first))).all()
    ids = {a.id for a in accounts}
    churns = db.session.execute(select(Churn).where(Churn.account_id.in_(ids))).scalars().all() if ids else []
    expansions = db.session.execute(select(MrrChange).where(
        MrrChange.account_id.in_(ids), MrrChange.kind == "expansion", MrrChange.change_date >= first)
    ).scalars().all() if ids else []
    lost_before = {c.account_id for c in churns if c.kind in LOGO_KINDS and c.churn_date < first}
    base_ids = ids - lost_before
    lost_ever = {c.account_id for c in churns if c.kind in LOGO_KINDS}
    since = [c for c in churns if c.account_id in base_ids and c.churn_date >= first]
    grown = [e for e in expansions if e.account_id in base_ids]
    # MRR at the period's start, rebuilt backwards from today's: add back what was lost since, take off
    # what was gained since (an account lost later had, at the start, what it lost minus what it gained).
    base_mrr = sum(a.mrr_cents for a in accounts if a.id in base_ids and a.id not in lost_ever)
    base_mrr += sum(c.mrr_lost_cents for c in since) - sum(e.amount_cents for e in grown)
    in_period = [c for c in since if c.churn_date < end]
    logos = len({c.account_id for c in in_period if c.kind in LOGO_KINDS})
    churned = sum(c.mrr_lost_cents for c in in_period if c.kind in LOGO_KINDS)
    contraction = sum(c.mrr_lost_cents for c in in_period if c.kind not in LOGO_KINDS)
    expansion = sum(e.amount_cents for e in grown if e.change_date < end)
    lost = churned + contraction
    return {"month": first, "end": end, "base_accounts": len(base_ids), "base_mrr_cents": base_mrr,
            "logos_lost": logos, "mrr_lost_cents": lost, "churned_mrr_cents": churned,
            "contraction_mrr_cents": contraction, "expansion_mrr_cents": expansion,
            "logo_churn_pct": _pct(logos, len(base_ids)), "revenue_churn_pct": _pct(lost, base_mrr),
            "grr_pct": _pct(base_mrr - lost, base_mrr), "nrr_pct": _pct(base_mrr - lost + expansion, base_mrr)}


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole > 0 else None


def month_figures(user, first: date) -> dict:
    """Logo and revenue churn, GRR and NRR for the month starting at `first`."""
    return period_figures(user, first, _next_month(first))


def trailing(user, last: date, months: int = 12) -> dict:
    """The same figures over the trailing `months` months ending with `last`'s month (the cohort is the
    book at the window's start, so NRR shows what last year's clients pay now against then)."""
    first = last.replace(day=1)
    for _ in range(months - 1):
        first = _previous_month(first)
    return period_figures(user, first, _next_month(last.replace(day=1)))


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def monthly(user, last: date, months: int = 6) -> list[dict]:
    firsts = []
    current = last.replace(day=1)
    for _ in range(months):
        firsts.append(current)
        current = _previous_month(current)
    return [month_figures(user, f) for f in reversed(firsts)]


# What the churn lists show of each record, loaded for the whole list at once.
_CHURN_LOADS = (selectinload(Churn.account), selectinload(Churn.reason), selectinload(Churn.csm))


def records(user, limit: int = 200) -> list[Churn]:
    return db.session.execute(scoped(user, Churn).options(*_CHURN_LOADS)
                              .order_by(Churn.churn_date.desc(), Churn.id.desc()).limit(limit)).scalars().all()


def breakdown(user, start: date, end: date) -> dict:
    """Churn records in [start, end) grouped by reason, segment and CSM: (logos lost, MRR lost)."""
    from portal.cs.models import SEGMENTS
    rows = db.session.execute(scoped(user, Churn).where(Churn.churn_date >= start, Churn.churn_date < end)
                              .options(*_CHURN_LOADS)).scalars().all()
    out: dict = {"reason": {}, "segment": {}, "csm": {}}
    for c in rows:
        for group, label in (("reason", c.reason.name), ("segment", SEGMENTS.get(c.segment, c.segment)),
                             ("csm", c.csm.name if c.csm else "Sem CSM")):
            logos, mrr = out[group].get(label, (0, 0))
            out[group][label] = (logos + (c.kind in LOGO_KINDS), mrr + c.mrr_lost_cents)
    return {group: sorted(values.items(), key=lambda item: -item[1][1]) for group, values in out.items()}
