"""Read models for the CS pages, always starting from the caller's scope (CSM: their portfolio; CS leader:
their team subtree; admin: everything)."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from portal import normalize
from portal.accounts.models import User
from portal.accounts.scope import criteria, scoped
from portal.automation.models import Task
from portal.cs.models import GRADES, PHASES, SEGMENTS, Account, Touchpoint, local_today, midnight_of
from portal.dbtypes import utcnow
from portal.extensions import db

PAGE_SIZE = 50
BOARD_LIMIT = 40
WORK_HORIZON_DAYS = 7
VISIT_LEAD_DAYS = 30     # an annual visit needs planning: show it a month ahead
RTS_LEAD_DAYS = 14
REASONS = {"follow_up": "Follow-up da cadência", "visit": "Visita anual", "rts": "Reunião de resultados (RTS)"}


def _int(value):
    return normalize.row_id(value)


def team_csms(user) -> list[User]:
    """The CSMs a leader can filter by (themselves included); a CSM only sees themselves."""
    stmt = scoped(user, User).where(User.role.in_(("csm", "cs_leader")), User.active.is_(True)).order_by(User.name)
    return list(db.session.execute(stmt).scalars())


@dataclass
class AccountFilters:
    q: str = ""
    segment: str = ""
    phase: str = ""
    grade: str = ""
    csm: int | None = None
    risk: bool = False

    @classmethod
    def from_args(cls, args):
        return cls(q=(args.get("q") or "").strip()[:100], segment=args.get("segment") if args.get("segment") in SEGMENTS
                   else "", phase=args.get("phase") if args.get("phase") in PHASES else "",
                   grade=args.get("grade") if args.get("grade") in (*GRADES, "none") else "",
                   csm=_int(args.get("csm")), risk=args.get("risk") == "1")

    def apply(self, stmt):
        if self.q:
            digits = "".join(ch for ch in self.q if ch.isdigit())
            like = f"%{self.q.lower()}%"
            stmt = stmt.where(or_(func.lower(Account.name).like(like),
                                  Account.cnpj.like(f"{digits}%") if len(digits) >= 4 else False))
        if self.segment:
            stmt = stmt.where(Account.segment == self.segment)
        if self.phase:
            stmt = stmt.where(Account.phase == self.phase)
        if self.grade == "none":
            stmt = stmt.where(Account.health_grade.is_(None))
        elif self.grade:
            stmt = stmt.where(Account.health_grade == self.grade)
        if self.csm:
            stmt = stmt.where(Account.csm_id == self.csm)
        if self.risk:
            stmt = stmt.where(Account.churn_risk_since.is_not(None))
        return stmt

    def args(self, **override) -> dict:
        values = {"q": self.q, "segment": self.segment, "phase": self.phase, "grade": self.grade,
                  "csm": self.csm or "", "risk": "1" if self.risk else ""}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.args())


def accounts_page(user, filters: AccountFilters, page: int = 1):
    stmt = filters.apply(scoped(user, Account)).options(selectinload(Account.csm)).order_by(Account.name, Account.id)
    return db.paginate(stmt, page=max(page, 1), per_page=PAGE_SIZE, error_out=False)


# ---- the work list ---------------------------------------------------------------------------------------

DUE_COLUMNS = (("follow_up", "next_follow_up_at", WORK_HORIZON_DAYS), ("visit", "next_visit_at", VISIT_LEAD_DAYS),
               ("rts", "next_rts_at", RTS_LEAD_DAYS))


@dataclass
class Due:
    reason: str
    at: datetime
    today: date

    @property
    def label(self):
        return REASONS[self.reason]

    @property
    def day(self) -> date:
        from portal.cs.services.journey import local_date
        return local_date(self.at)

    @property
    def days(self) -> int:
        return (self.day - self.today).days

    @property
    def status(self) -> str:
        return "overdue" if self.days < 0 else "today" if self.days == 0 else "soon"


@dataclass
class WorkItem:
    """One account in the work list with everything due on it (follow-up, visit, RTS), earliest first."""
    account: Account
    dues: list[Due]

    @property
    def first(self) -> Due:
        return self.dues[0]

    @property
    def status(self) -> str:
        return self.first.status

    @property
    def suggested_kind(self) -> str:
        return {"visit": "visit", "rts": "ebr"}.get(self.first.reason, "call")


def work_item(account: Account, today: date | None = None) -> WorkItem | None:
    """The account's dues inside their horizons (None when nothing is due soon)."""
    today = today or local_today()
    dues = []
    for reason, column, lead in DUE_COLUMNS:
        at = getattr(account, column)
        if at is not None and at < midnight_of(today + timedelta(days=lead + 1)):
            dues.append(Due(reason, at, today))
    dues.sort(key=lambda d: d.at)
    return WorkItem(account, dues) if dues else None


@dataclass
class WorkList:
    items: list[WorkItem] = field(default_factory=list)
    tasks: list[tuple[Task, Account]] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    truncated: bool = False


def work_list(user, csm_id: int | None = None, today: date | None = None, limit: int = 100) -> WorkList:
    """Accounts with a follow-up, visit or RTS due or overdue, most overdue first, plus open alert tasks."""
    today = today or local_today()
    start_of_today = midnight_of(today)
    scope = [criteria(user, Account)] + ([Account.csm_id == csm_id] if csm_id else [])
    accounts: dict[int, Account] = {}
    truncated = False
    for _, name, lead in DUE_COLUMNS:
        column = getattr(Account, name)
        until = midnight_of(today + timedelta(days=lead + 1))
        rows = db.session.execute(select(Account).where(*scope, column.is_not(None), column < until)
                                  .options(selectinload(Account.csm)).order_by(column, Account.id)
                                  .limit(limit + 1)).scalars().all()
        truncated = truncated or len(rows) > limit
        accounts.update((a.id, a) for a in rows[:limit])
    items = sorted((work_item(a, today) for a in accounts.values()), key=lambda i: (i.first.at, i.account.name))
    task_scope = [criteria(user, Task)] + ([Task.assignee_id == csm_id] if csm_id else [])
    tasks = db.session.execute(select(Task, Account).join(Account, and_(Task.subject_type == "account",
                                                                        Task.subject_id == Account.id))
                               .where(*task_scope, Task.done_at.is_(None))
                               .options(selectinload(Task.assignee))
                               # tasks with a deadline first, the most overdue on top (like the contacts above)
                               .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at.desc(), Task.id.desc())
                               .limit(limit)).all()
    counts = {
        "overdue": sum(1 for i in items if i.status == "overdue"),
        "today": sum(1 for i in items if i.status == "today"),
        "soon": sum(1 for i in items if i.status == "soon"),
        "alerts": db.session.scalar(select(func.count(Task.id)).where(*task_scope, Task.done_at.is_(None),
                                                                       Task.subject_type == "account")),
        "overdue_alerts": db.session.scalar(select(func.count(Task.id)).where(
            *task_scope, Task.done_at.is_(None), Task.subject_type == "account", Task.due_at < utcnow())),
        "overdue_follow_ups": db.session.scalar(select(func.count(Account.id)).where(
            *scope, Account.next_follow_up_at < start_of_today)),
    }
    return WorkList(items, [tuple(t) for t in tasks], counts, truncated)


# ---- board and dashboard ------------------------------------------------------------------------------------

@dataclass
class Column:
    phase: str
    label: str
    count: int
    accounts: list[Account]


def board(user, filters: AccountFilters) -> list[Column]:
    counts = dict(db.session.execute(filters.apply(select(Account.phase, func.count(Account.id))
                                                   .where(criteria(user, Account))).group_by(Account.phase)).all())
    columns = []
    for phase, label in PHASES.items():
        rows = db.session.execute(filters.apply(scoped(user, Account)).where(Account.phase == phase)
                                  .options(selectinload(Account.csm))
                                  .order_by(Account.phase_started_at, Account.id).limit(BOARD_LIMIT)).scalars().all()
        columns.append(Column(phase, label, counts.get(phase, 0), rows))
    return columns


def dashboard(user, today: date | None = None) -> dict:
    from portal.cs.services.health import dropped
    today = today or local_today()
    where = criteria(user, Account)
    by_phase = dict(db.session.execute(select(Account.phase, func.count(Account.id)).where(where)
                                       .group_by(Account.phase)).all())
    by_grade = dict(db.session.execute(select(func.coalesce(Account.health_grade, "none"), func.count(Account.id))
                                       .where(where).group_by(Account.health_grade)).all())
    mrr = db.session.scalar(select(func.coalesce(func.sum(Account.mrr_cents), 0)).where(where))
    at_risk = db.session.execute(select(Account).where(where, Account.churn_risk_since.is_not(None))
                                 .options(selectinload(Account.csm))
                                 .order_by(Account.health_score, Account.name).limit(10)).scalars().all()
    renewals = db.session.execute(select(Account).where(where, Account.renewal_date >= today,
                                                        Account.renewal_date <= today + timedelta(days=90))
                                  .order_by(Account.renewal_date, Account.name).limit(10)).scalars().all()
    return {"by_phase": by_phase, "by_grade": by_grade, "total": sum(by_phase.values()), "mrr_cents": mrr,
            "at_risk": at_risk, "renewals": renewals, "dropped": dropped(15, 30, today, user, limit=10),
            "at_risk_count": db.session.scalar(select(func.count(Account.id)).where(
                where, Account.churn_risk_since.is_not(None)))}


def touchpoints(account: Account, limit: int = 100) -> list[Touchpoint]:
    return list(db.session.execute(select(Touchpoint).where(Touchpoint.account_id == account.id)
                                   .options(selectinload(Touchpoint.user), selectinload(Touchpoint.contact))
                                   .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(limit)
                                   ).scalars())


def open_tasks(account: Account) -> list[Task]:
    return list(db.session.execute(select(Task).where(Task.subject_type == "account", Task.subject_id == account.id,
                                                      Task.done_at.is_(None)).order_by(Task.created_at.desc())
                                   ).scalars())
