"""Health score: six measures, each 0–100, weighted by the CS leader; the CSM's risk flag caps the result.

Pure functions first (one per measure, then `combine`), so a fixture account's score can be checked by
hand; then `recompute`, which gathers every input with a handful of set queries (never one query per
account), writes one HealthScore row per account per day (recomputing a day replaces it, so reruns are
harmless) and copies the result onto the account for lists, boards and alert rules.
"""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from portal.accounts.scope import criteria
from portal.cs.models import Account, HealthScore, KeyFeature, UsageMetric, account_products, local_today
from portal.cs.settings import MEASURES, MEASURES_SHORT, Settings, get_settings
from portal.dbtypes import utcnow
from portal.extensions import db

RECENT_DAYS, BASELINE_DAYS, ENGAGEMENT_DAYS = 7, 28, 30
CHUNK = 1000


def _round(x: float) -> int:
    """Half up, the way people round (Python's round() would give 2 for 2.5)."""
    return int(math.floor(x + 0.5))


# ---- the measures (pure) ------------------------------------------------------------------------------

def usage_measure(features: dict[str, tuple[int, int]], ever_used: bool) -> int | None:
    """Usage against the account's own baseline: per feature, the last 7 days over the average week of the
    28 days before (capped at 1 — at or above baseline is healthy), averaged over features.

    A feature new in the last week counts as 1. No usage in 35 days: 0 if the account ever sent usage,
    None (not measured) if it never did.
    """
    ratios = []
    for recent, baseline in features.values():
        weekly = baseline * RECENT_DAYS / BASELINE_DAYS
        if weekly > 0:
            ratios.append(min(recent / weekly, 1.0))
        elif recent > 0:
            ratios.append(1.0)
    if not ratios:
        return 0 if ever_used else None
    return _round(100 * sum(ratios) / len(ratios))


def engagement_measure(key_features: set[str], used: set[str]) -> int | None:
    """Share of the key features of the account's products used in the last 30 days."""
    if not key_features:
        return None
    return _round(100 * len(key_features & used) / len(key_features))


def support_measure(open_tickets: int, sla_breaches: int) -> int:
    """-10 per open ticket, -25 per SLA breach."""
    return max(0, 100 - 10 * (open_tickets or 0) - 25 * (sla_breaches or 0))


def nps_measure(last_nps: int | None) -> int | None:
    """Promoter (9–10) 100, passive (7–8) 70, detractor 0–6 → 0–30."""
    if last_nps is None:
        return None
    if last_nps >= 9:
        return 100
    if last_nps >= 7:
        return 70
    return last_nps * 5


def finance_measure(days_overdue: int) -> int:
    """100 when paid up, falling linearly to 0 at 60 days overdue."""
    return max(0, 100 - _round((days_overdue or 0) * 100 / 60))


def relationship_measure(days_since_touch: int, cadence_days: int, sponsor_met: bool) -> int:
    """70 % cadence (100 within the cadence, down to 0 at twice it), 30 % executive sponsor met."""
    ratio = days_since_touch / max(cadence_days, 1)
    cadence = 100 if ratio <= 1 else max(0, _round(100 * (2 - ratio)))
    return _round(0.7 * cadence + 0.3 * (100 if sponsor_met else 0))


def grade_of(score: int, health: dict) -> str:
    if score >= health["green_at"]:
        return "green"
    if score >= health["yellow_at"]:
        return "yellow"
    return "red"


@dataclass
class Result:
    score: int
    grade: str
    measures: dict            # name → {"score", "weight", "points"}
    flagged: bool = False
    uncapped: int | None = None


def combine(scores: dict[str, int | None], health: dict, flagged: bool = False) -> Result:
    """Weighted mean of the measured measures (weights renormalized over them); the flag caps it."""
    weights = health["weights"]
    present = {k: s for k, s in scores.items() if s is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in present)
    measures = {}
    raw = 0.0
    for key in MEASURES:
        s, w = scores.get(key), weights.get(key, 0)
        points = s * w / total if key in present and total else 0.0
        raw += points
        measures[key] = {"score": s, "weight": w, "points": round(points, 1)}
    score = _round(raw)
    uncapped = None
    if flagged and score > health["flag_cap"]:
        uncapped, score = score, health["flag_cap"]
    return Result(score, grade_of(score, health), measures, flagged, uncapped)


# ---- gathering inputs -----------------------------------------------------------------------------------

@dataclass
class UsageFacts:
    features: dict[str, tuple[int, int]] = field(default_factory=dict)   # feature → (recent, baseline)
    used_30d: set[str] = field(default_factory=set)
    last_week: int = 0
    week_before: int = 0

    @property
    def wow_pct(self) -> int | None:
        if self.week_before <= 0:
            return None
        return _round(100 * (self.last_week - self.week_before) / self.week_before)


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def usage_facts(day: date, account_ids=None) -> dict[int, UsageFacts]:
    """One grouped query over the last 35 days (before `day`) for every account (or the given ones)."""
    recent_from = day - timedelta(days=RECENT_DAYS)
    start = recent_from - timedelta(days=BASELINE_DAYS)
    engaged_from = day - timedelta(days=ENGAGEMENT_DAYS)
    monday = week_monday(day)
    week_from, before_from = monday - timedelta(days=7), monday - timedelta(days=14)
    u = UsageMetric
    stmt = (select(u.account_id, u.feature,
                   func.sum(case((u.day >= recent_from, u.count), else_=0)),
                   func.sum(case((u.day < recent_from, u.count), else_=0)),
                   func.sum(case((and_(u.day >= engaged_from, u.count > 0), 1), else_=0)),
                   func.sum(case((and_(u.day >= week_from, u.day < monday), u.count), else_=0)),
                   func.sum(case((and_(u.day >= before_from, u.day < week_from), u.count), else_=0)))
            .where(u.day >= start, u.day < day).group_by(u.account_id, u.feature))
    if account_ids is not None:
        stmt = stmt.where(u.account_id.in_(account_ids))
    facts: dict[int, UsageFacts] = {}
    for account_id, feature, recent, baseline, days_used, week, before in db.session.execute(stmt):
        f = facts.setdefault(account_id, UsageFacts())
        f.features[feature] = (int(recent or 0), int(baseline or 0))
        if days_used:
            f.used_30d.add(feature)
        f.last_week += int(week or 0)
        f.week_before += int(before or 0)
    return facts


def key_features_by_account(account_ids=None) -> dict[int, set[str]]:
    by_product: dict[int, set[str]] = {}
    for product_id, code in db.session.execute(select(KeyFeature.product_id, KeyFeature.code)):
        by_product.setdefault(product_id, set()).add(code)
    stmt = select(account_products.c.account_id, account_products.c.product_id)
    if account_ids is not None:
        stmt = stmt.where(account_products.c.account_id.in_(account_ids))
    out: dict[int, set[str]] = {}
    for account_id, product_id in db.session.execute(stmt):
        out.setdefault(account_id, set()).update(by_product.get(product_id, ()))
    return out


ACCOUNT_COLUMNS = (Account.id, Account.segment, Account.phase, Account.created_at, Account.last_touchpoint_at,
                   Account.sponsor_met_at, Account.open_tickets, Account.sla_breaches, Account.last_nps,
                   Account.days_overdue, Account.risk_flag, Account.health_grade, Account.churn_risk_since,
                   Account.last_usage_on)


def _days_between(earlier, day: date) -> int:
    from portal.cs.services.journey import local_date
    return max(0, (day - local_date(earlier)).days) if earlier is not None else 0


def score_account(row, usage: UsageFacts | None, keys: set[str], day: date, settings: Settings) -> Result:
    """Score one account from its row (ACCOUNT_COLUMNS) and gathered facts."""
    health = settings.health
    usage = usage or UsageFacts()
    cadence = settings.follow_up_days(row.segment, row.phase) or health["on_demand_days"]
    sponsor_days = health["sponsor_days"]
    sponsor = row.sponsor_met_at is not None and _days_between(row.sponsor_met_at, day) <= sponsor_days
    scores = {
        "usage": usage_measure(usage.features, row.last_usage_on is not None),
        "engagement": engagement_measure(keys, usage.used_30d),
        "support": support_measure(row.open_tickets, row.sla_breaches),
        "nps": nps_measure(row.last_nps),
        "finance": finance_measure(row.days_overdue),
        "relationship": relationship_measure(_days_between(row.last_touchpoint_at or row.created_at, day),
                                             cadence, sponsor),
    }
    return combine(scores, health, bool(row.risk_flag))


# ---- recompute (nightly and on demand) --------------------------------------------------------------------

@dataclass
class Summary:
    day: date
    accounts: int = 0
    grade_changes: int = 0
    rescheduled: int = 0


def recompute(day: date | None = None, account_ids=None, settings: Settings | None = None) -> Summary:
    """Score every account (or the given ones) for `day`, replacing that day's rows. The caller commits."""
    from portal.automation.events import publish
    day = day or local_today()
    settings = settings or get_settings()
    ids_filter = list(account_ids) if account_ids is not None else None
    usage = usage_facts(day, ids_filter)
    keys = key_features_by_account(ids_filter)
    week_ago = dict(db.session.execute(select(HealthScore.account_id, HealthScore.score)
                                       .where(HealthScore.day == day - timedelta(days=7),
                                              *([HealthScore.account_id.in_(ids_filter)] if ids_filter else []))
                                       ).all())
    stmt = select(*ACCOUNT_COLUMNS).order_by(Account.id)
    if ids_filter is not None:
        stmt = stmt.where(Account.id.in_(ids_filter))
    rows = db.session.execute(stmt).all()
    now = utcnow()
    summary = Summary(day)
    moved_anchors: dict[int, set[str]] = {}
    grade_events = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        scores, updates = [], []
        for row in chunk:
            facts = usage.get(row.id)
            result = score_account(row, facts, keys.get(row.id, set()), day, settings)
            at_risk = result.grade == "red" or bool(row.risk_flag)
            risk_since = (row.churn_risk_since or now) if at_risk else None
            change = result.score - week_ago[row.id] if row.id in week_ago else None
            scores.append({"account_id": row.id, "day": day, "score": result.score, "grade": result.grade,
                           "flagged": result.flagged, "computed_at": now,
                           "measures": {**result.measures, **({"uncapped": result.uncapped}
                                                              if result.uncapped is not None else {})}})
            updates.append({"id": row.id, "health_score": result.score, "health_grade": result.grade,
                            "health_on": day, "health_change_7d": change,
                            "engagement_score": result.measures["engagement"]["score"],
                            "usage_wow_pct": facts.wow_pct if facts else None,
                            "churn_risk_since": risk_since})
            if row.churn_risk_since != risk_since:  # a risk episode began or ended: re-arm its rules
                moved_anchors[row.id] = {"churn_risk_since"}
            if row.health_grade and row.health_grade != result.grade:
                grade_events.append((row.id, row.health_grade, result.grade, result.score))
        ids = [r.id for r in chunk]
        db.session.execute(delete(HealthScore).where(HealthScore.day == day, HealthScore.account_id.in_(ids)))
        db.session.execute(insert(HealthScore), scores)
        db.session.execute(update(Account), updates)
        summary.accounts += len(chunk)
    db.session.expire_all()  # bulk statements bypassed the identity map: reload what callers hold
    _rearm(moved_anchors)
    summary.rescheduled = len(moved_anchors)
    from portal.cs.models import GRADES
    for account_id, old, new, score in grade_events:
        account = db.session.get(Account, account_id)
        publish("account.grade_changed", account, **{"from": old, "to": new, "de": GRADES[old],
                                                      "para": GRADES[new], "nota": score})
    summary.grade_changes = len(grade_events)
    return summary


def _rearm(moved: dict[int, set[str]]) -> None:
    """Re-arm the rules of the accounts whose anchors moved (a risk episode began or ended); the rules are
    read once for the whole night, not once per account."""
    from portal.automation.engine import schedule
    from portal.automation.models import Rule
    fields = set().union(*moved.values()) if moved else set()
    if not fields:
        return
    rules = db.session.execute(select(Rule).where(Rule.active.is_(True), Rule.trigger == "time",
                                                  Rule.subject_type == "account", Rule.date_field.in_(fields))
                               ).scalars().all()
    if not rules:
        return
    ids = sorted(moved)
    for start in range(0, len(ids), CHUNK):
        for account in db.session.execute(select(Account).where(Account.id.in_(ids[start:start + CHUNK]))).scalars():
            wanted = [r for r in rules if r.date_field in moved[account.id]]
            if wanted:
                schedule(account, wanted)


def recompute_account(account: Account, day: date | None = None) -> HealthScore:
    recompute(day, [account.id])
    return latest(account)


# ---- reading ------------------------------------------------------------------------------------------------

def latest(account: Account, day: date | None = None) -> HealthScore | None:
    stmt = select(HealthScore).where(HealthScore.account_id == account.id)
    if day is not None:
        stmt = stmt.where(HealthScore.day <= day)
    return db.session.execute(stmt.order_by(HealthScore.day.desc()).limit(1)).scalar_one_or_none()


@dataclass
class WhyLine:
    key: str
    label: str
    score: int | None
    weight: int
    points: float
    previous_score: int | None = None
    previous_points: float | None = None

    @property
    def short(self) -> str:
        return MEASURES_SHORT.get(self.key, self.label)

    @property
    def delta_points(self) -> float | None:
        if self.previous_points is None:
            return None
        return round(self.points - self.previous_points, 1)


@dataclass
class Why:
    current: HealthScore
    previous: HealthScore | None
    lines: list[WhyLine]

    @property
    def delta(self) -> int | None:
        return self.current.score - self.previous.score if self.previous else None

    @property
    def uncapped(self) -> int | None:
        return (self.current.measures or {}).get("uncapped")


def why(account: Account, day: date | None = None) -> Why | None:
    """Each measure's contribution to the latest score, and what changed since a week before it."""
    current = latest(account, day)
    if current is None:
        return None
    previous = latest(account, current.day - timedelta(days=7))
    lines = []
    for key, label in MEASURES.items():
        m = (current.measures or {}).get(key) or {}
        p = (previous.measures or {}).get(key) if previous else None
        lines.append(WhyLine(key, label, m.get("score"), m.get("weight", 0), m.get("points", 0.0),
                             p.get("score") if p else None, p.get("points") if p else None))
    return Why(current, previous, lines)


def history(account: Account, days: int = 90, day: date | None = None) -> list[HealthScore]:
    day = day or local_today()
    return list(db.session.execute(select(HealthScore).where(HealthScore.account_id == account.id,
                                                             HealthScore.day > day - timedelta(days=days),
                                                             HealthScore.day <= day)
                                   .order_by(HealthScore.day)).scalars())


def dropped(points: int, days: int = 30, day: date | None = None, user=None, limit: int | None = None):
    """Accounts whose score fell by at least `points` between `days` ago and `day`:
    [(account, score then, score now)], biggest drop first. Scoped to `user` when given."""
    day = day or local_today()
    now_row, then_row = aliased(HealthScore), aliased(HealthScore)
    drop = then_row.score - now_row.score
    stmt = (select(Account, then_row.score, now_row.score)
            .join(now_row, and_(now_row.account_id == Account.id, now_row.day == day))
            .join(then_row, and_(then_row.account_id == Account.id, then_row.day == day - timedelta(days=days)))
            .where(drop >= points).order_by(drop.desc(), Account.name))
    if user is not None:
        stmt = stmt.where(criteria(user, Account))
    if limit:
        stmt = stmt.limit(limit)
    return [tuple(r) for r in db.session.execute(stmt)]
