"""Churn records (cancellation, non-renewal, downgrade) with MRR lost, a reason from the editable taxonomy
and the autopsy; logo and revenue churn per month.

Month figures: the base is the accounts created before the month that had not been lost (cancellation or
non-renewal) before it. Base MRR = those accounts' current MRR (excluding accounts lost since) plus every
MRR lost by them from the month's first day on — the MRR they had when the month began, as far as churn
records tell. Logo churn = accounts lost in the month / base accounts; revenue churn = MRR lost in the
month / base MRR (downgrades count here, not in logos)."""
from datetime import date

from sqlalchemy import func, select

from portal.accounts.scope import scoped
from portal.accounts.services import ServiceError
from portal.cs.models import Account, midnight_of
from portal.cs.nps_models import CHURN_KINDS, LOGO_KINDS, Churn, ChurnReason
from portal.cs.services.accounts import parse_date, parse_money_cents
from portal.extensions import db


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


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def month_figures(user, first: date) -> dict:
    """Logo and revenue churn for the month starting at `first`, over the accounts in the user's scope."""
    end = _next_month(first)
    accounts = db.session.execute(scoped(user, Account, Account.id, Account.mrr_cents)
                                  .where(Account.created_at < midnight_of(first))).all()
    ids = {a.id for a in accounts}
    churns = db.session.execute(select(Churn).where(Churn.account_id.in_(ids))).scalars().all() if ids else []
    lost_before = {c.account_id for c in churns if c.kind in LOGO_KINDS and c.churn_date < first}
    base_ids = ids - lost_before
    lost_ever = {c.account_id for c in churns if c.kind in LOGO_KINDS}
    since = [c for c in churns if c.account_id in base_ids and c.churn_date >= first]
    base_mrr = sum(a.mrr_cents for a in accounts if a.id in base_ids and a.id not in lost_ever)
    base_mrr += sum(c.mrr_lost_cents for c in since)
    in_month = [c for c in since if c.churn_date < end]
    logos = len({c.account_id for c in in_month if c.kind in LOGO_KINDS})
    lost = sum(c.mrr_lost_cents for c in in_month)
    return {"month": first, "base_accounts": len(base_ids), "base_mrr_cents": base_mrr, "logos_lost": logos,
            "mrr_lost_cents": lost,
            "logo_churn_pct": round(logos * 100 / len(base_ids), 1) if base_ids else None,
            "revenue_churn_pct": round(lost * 100 / base_mrr, 1) if base_mrr else None}


def monthly(user, last: date, months: int = 6) -> list[dict]:
    firsts = []
    current = last.replace(day=1)
    for _ in range(months):
        firsts.append(current)
        current = date(current.year - (current.month == 1), (current.month - 2) % 12 + 1, 1)
    return [month_figures(user, f) for f in reversed(firsts)]


def records(user, limit: int = 200) -> list[Churn]:
    return db.session.execute(scoped(user, Churn).order_by(Churn.churn_date.desc(), Churn.id.desc())
                              .limit(limit)).scalars().all()


def breakdown(user, start: date, end: date) -> dict:
    """Churn records in [start, end) grouped by reason, segment and CSM: (logos lost, MRR lost)."""
    from portal.cs.models import SEGMENTS
    rows = db.session.execute(scoped(user, Churn).where(Churn.churn_date >= start, Churn.churn_date < end)
                              ).scalars().all()
    out: dict = {"reason": {}, "segment": {}, "csm": {}}
    for c in rows:
        for group, label in (("reason", c.reason.name), ("segment", SEGMENTS.get(c.segment, c.segment)),
                             ("csm", c.csm.name if c.csm else "Sem CSM")):
            logos, mrr = out[group].get(label, (0, 0))
            out[group][label] = (logos + (c.kind in LOGO_KINDS), mrr + c.mrr_lost_cents)
    return {group: sorted(values.items(), key=lambda item: -item[1][1]) for group, values in out.items()}
