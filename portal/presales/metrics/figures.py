"""The building blocks of the pre-sales figures: periods in local days, the value types the dashboard and
reports show (slices, funnel steps, SLA counts, per-rep service), and shared SQL expressions."""
import calendar
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from portal.accounts.models import Team
from portal.accounts.scope import team_subtree_ids
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Stage
from portal.web.filters import local_tz

BUCKETS = {"le15": "Até 15 min", "le60": "De 15 min a 1 h", "le240": "De 1 a 4 h", "gt240": "Mais de 4 h"}
SLA_STATES = {"on_time": "No prazo", "late": "Fora do prazo", "pending": "Em andamento"}
SCHEDULE_STATES = {"done": "Realizados", "overdue": "Atrasados", "upcoming": "A realizar"}
# Narratives that are a person's work (system entries, distribution and re-entries are not).
ACTIVITY_KINDS = {"call": "Ligação", "email": "E-mail", "whatsapp": "WhatsApp", "visit": "Visita",
                  "meeting": "Reunião", "note": "Anotação", "stage": "Mudança de etapa",
                  "qualification": "Qualificação"}
NEGOTIATIONS_SHOWN = 10
NO_OWNER = "Sem responsável"
NO_TEAM = "Sem equipe"


# --- period ---------------------------------------------------------------------------------------------------

def today_local() -> date:
    return utcnow().astimezone(local_tz()).date()


def month_bounds(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_tz()).astimezone(timezone.utc)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @classmethod
    def resolve(cls, start: date | None = None, end: date | None = None) -> "Period":
        """Missing ends: the current month; one end given: that end's month for the other."""
        if start is None and end is None:
            return cls(*month_bounds(today_local()))
        if start is None:
            start = end.replace(day=1)
        if end is None:
            end = month_bounds(start)[1]
        return cls(start, end)

    @property
    def utc_start(self) -> datetime:
        return local_midnight_utc(self.start)

    @property
    def utc_end(self) -> datetime:  # excluded
        return local_midnight_utc(self.end + timedelta(days=1))

    def args(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def label(self) -> str:
        return f"{self.start:%d/%m/%Y} a {self.end:%d/%m/%Y}"


# --- small result types -------------------------------------------------------------------------------------------

@dataclass
class Slice:
    """One bar: what it counts (id for the drill-down filter, None = not set) and how many."""
    id: int | None
    label: str
    count: int
    share: float = 0.0  # % of the chart's total


@dataclass
class FunnelStep:
    stage: Stage
    reached: int  # leads at this stage or beyond (not lost)
    current: int  # leads in this stage now
    rate: float | None  # % of the previous step; None on the first or after an empty step


@dataclass
class SlaCounts:
    on_time: int = 0
    answered_late: int = 0
    missed: int = 0  # not answered, due time passed
    pending: int = 0
    buckets: dict = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def late(self) -> int:
        return self.answered_late + self.missed

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def answered(self) -> int:
        return self.on_time + self.answered_late

    @property
    def total(self) -> int:
        return self.decided + self.pending

    @property
    def percent(self) -> float | None:
        return 100 * self.on_time / self.decided if self.decided else None

    def add(self, other: "SlaCounts") -> None:
        self.on_time += other.on_time
        self.answered_late += other.answered_late
        self.missed += other.missed
        self.pending += other.pending
        for key, value in other.buckets.items():
            self.buckets[key] += value


@dataclass
class RepService:
    """One row of "Atendimento ao cliente": a rep (or a team / the total when rep is None)."""
    owner_id: int | None
    name: str
    team_id: int | None
    team: str
    received: int = 0
    sla: SlaCounts = field(default_factory=SlaCounts)
    minutes: list = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.minutes) if self.minutes else None

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.minutes) if self.minutes else None


# --- the figures --------------------------------------------------------------------------------------------------

def team_and_below(team_id: int):
    """Select of a team's id and its sub-teams' ids (the leads list's team filter means the same)."""
    base = select(Team.id).where(Team.id == team_id).cte("metrics_team_below", recursive=True)
    tree = base.union(select(Team.id).join(base, Team.parent_id == base.c.id))
    return select(tree.c.id)


def visible_teams(user) -> list[Team]:
    if user.role == "admin":
        stmt = select(Team)
    elif user.role == "manager":
        stmt = select(Team).where(Team.id.in_(team_subtree_ids(user.id)))
    else:
        return []
    return db.session.execute(stmt.order_by(Team.name)).scalars().all()


def minutes_between(later, earlier):
    """Wall-clock minutes between two timestamp columns, in SQL (SQLite or PostgreSQL)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 1440.0
    return func.extract("epoch", later - earlier) / 60.0


def hour_bucket(column):
    """'YYYY-MM-DD HH' of a UTC timestamp column; the local day is worked out in Python."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def _share(slices: list[Slice]) -> list[Slice]:
    total = sum(s.count for s in slices)
    for s in slices:
        s.share = 100 * s.count / total if total else 0.0
    return slices
