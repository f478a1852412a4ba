"""Read models for the pre-sales pages: the board, the list, the export, the home counts.

Everything starts from `scoped(user, Lead)`: a manager sees their team subtree, a broker/SDR their own.
Filters come from the query string (`LeadFilters.from_args`) and are applied the same way to the board,
the list and the CSV export, so the export is exactly what the screen shows.
"""
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import String, and_, asc, cast, desc, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from portal import normalize
from portal.accounts.models import Team, User
from portal.accounts.scope import scoped, team_subtree_ids
from portal.automation.timeline import Entry, timeline
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Channel, Lead, Media, Offer, Pipeline, QueueMember, Stage
from portal.presales.services.config import default_pipeline
from portal.realestate.models import Development
from portal.web.filters import local_tz

PAGE_SIZE = 25
COLUMN_SIZE = 20
SALES_ROLES = ("broker", "sdr")
SORTS = {"number": Lead.id, "name": Lead.name, "stage": Stage.position, "created": Lead.created_at}
SORT_LABELS = {"number": "Número", "name": "Nome", "stage": "Etapa", "owner": "Responsável", "created": "Criado em"}


def _int(value) -> int | None:
    return normalize.row_id(value)


@dataclass
class LeadFilters:
    development: int | None = None
    channel: int | None = None
    media: int | None = None
    owner: int | None = None
    team: int | None = None
    stage: int | None = None
    q: str = ""
    # drill-down from the dashboard: creation period (local dates), outcome, loss reason, negotiations
    created_from: str | None = None
    created_to: str | None = None
    status: str | None = None
    loss_reason: int | None = None
    negotiating: int | None = None

    @classmethod
    def from_args(cls, args) -> "LeadFilters":
        return cls(development=_int(args.get("development")), channel=_int(args.get("channel")),
                   media=_int(args.get("media")), owner=_int(args.get("owner")), team=_int(args.get("team")),
                   stage=_int(args.get("stage")), q=(args.get("q") or "").strip()[:100],
                   created_from=_day(args.get("created_from")), created_to=_day(args.get("created_to")),
                   status=args.get("status") if args.get("status") in ("open", "won", "lost") else None,
                   loss_reason=_int(args.get("loss_reason")), negotiating=1 if args.get("negotiating") == "1" else None)

    def args(self) -> dict:
        """The non-empty filters, for building links (pager, sort, export, load more)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}

    @property
    def active(self) -> int:
        return len([k for k in self.args() if k != "stage"])


def _day(value) -> str | None:
    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def _local_start(day: str):
    return datetime.combine(date.fromisoformat(day), time.min, local_tz()).astimezone(timezone.utc)


def team_and_below(team_id: int):
    """Select of the ids of a team and all its sub-teams."""
    base = select(Team.id).where(Team.id == team_id).cte("team_below", recursive=True)
    tree = base.union(select(Team.id).join(base, Team.parent_id == base.c.id))
    return select(tree.c.id)


def _search(stmt, q: str):
    like = f"%{q.lower()}%"
    terms = [func.lower(Lead.name).like(like), func.lower(Lead.email).like(like), func.lower(Lead.number).like(like)]
    digits = normalize.digits(q)
    if len(digits) >= 4:
        terms.append(Lead.phone.like(f"%{digits}%"))
    if q.isdigit():
        terms.append(cast(Lead.id, String) == q)
    return stmt.where(or_(*terms))


def lead_query(user, filters: LeadFilters, pipeline_id: int | None = None):
    """`select(Lead)` in the caller's scope with the filters applied."""
    stmt = scoped(user, Lead)
    if pipeline_id is not None:
        stmt = stmt.where(Lead.pipeline_id == pipeline_id)
    for name, column in (("development", Lead.development_id), ("channel", Lead.channel_id),
                         ("media", Lead.media_id), ("owner", Lead.owner_id), ("stage", Lead.stage_id)):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.team is not None:
        stmt = stmt.where(Lead.owner_id.in_(select(User.id).where(User.team_id.in_(team_and_below(filters.team)))))
    if filters.q:
        stmt = _search(stmt, filters.q)
    if filters.created_from:
        stmt = stmt.where(Lead.created_at >= _local_start(filters.created_from))
    if filters.created_to:
        stmt = stmt.where(Lead.created_at < _local_start(filters.created_to) + timedelta(days=1))
    if filters.status:
        stmt = stmt.where(Lead.status == filters.status)
    if filters.loss_reason is not None:
        stmt = stmt.where(Lead.loss_reason_id == filters.loss_reason)
    if filters.negotiating:
        stmt = stmt.where(Lead.negotiated_value_cents.is_not(None), Lead.status == "open")
    return stmt


def _with_relations(stmt):
    return stmt.options(joinedload(Lead.development), joinedload(Lead.owner), joinedload(Lead.stage),
                        joinedload(Lead.channel), joinedload(Lead.media), joinedload(Lead.sdr))


# --- filter choices ---------------------------------------------------------------------------------------------

def people(user, roles=SALES_ROLES + ("manager",)) -> list[User]:
    """Active users in the caller's scope with the given roles (owner filter, transfer targets)."""
    stmt = scoped(user, User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.name)
    return db.session.execute(stmt).scalars().all()


def teams(user) -> list[Team]:
    if user.role == "admin":
        stmt = select(Team)
    elif user.role == "manager":
        stmt = select(Team).where(Team.id.in_(team_subtree_ids(user.id)))
    else:
        return []
    return db.session.execute(stmt.order_by(Team.name)).scalars().all()


def filter_options(user) -> dict:
    leader = user.role in ("admin", "manager")
    return {
        "developments": db.session.execute(scoped(user, Development).order_by(Development.name)).scalars().all(),
        "channels": db.session.execute(select(Channel).order_by(Channel.name)).scalars().all(),
        "media": db.session.execute(select(Media).order_by(Media.name)).scalars().all(),
        "owners": people(user) if leader else [],
        "teams": teams(user) if leader else [],
    }


def pipelines() -> list[Pipeline]:
    return db.session.execute(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name)).scalars().all()


def pipeline_or_default(pipeline_id: int | None) -> Pipeline | None:
    if pipeline_id is not None:
        found = db.session.get(Pipeline, pipeline_id)
        if found is not None:
            return found
    return default_pipeline()


# --- board ------------------------------------------------------------------------------------------------------

@dataclass
class Column:
    stage: Stage
    count: int
    leads: list[Lead]

    @property
    def more(self) -> bool:
        return self.count > len(self.leads)


def column_leads(user, filters: LeadFilters, stage: Stage, offset: int = 0, limit: int = COLUMN_SIZE) -> list[Lead]:
    stmt = lead_query(user, filters, stage.pipeline_id).where(Lead.stage_id == stage.id)
    stmt = _with_relations(stmt).order_by(Lead.stage_entered_at.desc(), Lead.id.desc()).offset(offset).limit(limit)
    return db.session.execute(stmt).unique().scalars().all()


def board(user, pipeline: Pipeline, filters: LeadFilters) -> list[Column]:
    """One column per stage: its count (whole scope, filtered) and its first page of cards."""
    base = lead_query(user, filters, pipeline.id).subquery()
    counts = dict(db.session.execute(select(base.c.stage_id, func.count()).group_by(base.c.stage_id)).all())
    return [Column(stage, counts.get(stage.id, 0), column_leads(user, filters, stage) if counts.get(stage.id) else [])
            for stage in pipeline.stages]


# --- list and export --------------------------------------------------------------------------------------------

def sorted_leads(user, filters: LeadFilters, sort: str = "created", direction: str = "desc"):
    owner = aliased(User)
    stmt = (lead_query(user, filters).join(Stage, Stage.id == Lead.stage_id)
            .outerjoin(owner, owner.id == Lead.owner_id))
    column = owner.name if sort == "owner" else SORTS.get(sort, Lead.created_at)
    order = asc if direction == "asc" else desc
    return _with_relations(stmt).order_by(order(column), order(Lead.id))


def list_page(user, filters: LeadFilters, sort: str, direction: str, page: int):
    return db.paginate(sorted_leads(user, filters, sort, direction), page=page, per_page=PAGE_SIZE, error_out=False)


EXPORT_COLUMNS = ["Número", "Nome", "E-mail", "Telefone", "Empreendimento", "Canal", "Mídia", "Etapa", "Situação",
                  "Responsável", "SDR", "Nota de qualificação", "Criado em"]


def export_rows(user, filters: LeadFilters, sort: str, direction: str):
    from portal.web.filters import datetime_br
    for lead in db.session.execute(sorted_leads(user, filters, sort, direction)).unique().scalars():
        yield [lead.number, lead.name, lead.email or "", lead.phone or "", getattr(lead.development, "name", ""),
               getattr(lead.channel, "name", ""), getattr(lead.media, "name", ""), lead.stage.name, lead.status_label,
               getattr(lead.owner, "name", ""), getattr(lead.sdr, "name", ""), lead.qualification_score,
               datetime_br(lead.created_at)]


# --- home and offers --------------------------------------------------------------------------------------------

def start_of_today() -> datetime:
    now = utcnow().astimezone(local_tz())
    return datetime.combine(now.date(), time.min, tzinfo=local_tz()).astimezone(timezone.utc)


def pending_offers(user) -> list[Offer]:
    stmt = (select(Offer).where(Offer.user_id == user.id, Offer.status == "pending", Offer.expires_at > utcnow())
            .options(joinedload(Offer.lead).joinedload(Lead.development), joinedload(Offer.lead).joinedload(Lead.channel))
            .order_by(Offer.expires_at))
    return db.session.execute(stmt).scalars().all()


def my_counts(user) -> dict:
    mine = and_(Lead.owner_id == user.id, Lead.status == "open")

    def count(*where):
        return db.session.scalar(select(func.count(Lead.id)).where(*where)) or 0
    return {
        "open": count(mine),
        "new_today": count(mine, Lead.assigned_at >= start_of_today()),
        "no_contact": count(mine, Lead.first_response_at.is_(None), Lead.last_contact_at.is_(None)),
        "offers": db.session.scalar(select(func.count(Offer.id)).where(
            Offer.user_id == user.id, Offer.status == "pending", Offer.expires_at > utcnow())) or 0,
    }


def team_counts(user, pipeline: Pipeline) -> list[tuple[Stage, int]]:
    base = lead_query(user, LeadFilters(), pipeline.id).subquery()
    counts = dict(db.session.execute(select(base.c.stage_id, func.count()).group_by(base.c.stage_id)).all())
    return [(stage, counts.get(stage.id, 0)) for stage in pipeline.stages]


def presence(user) -> dict | None:
    """The caller's online-queue membership: None when they are in no online queue."""
    members = db.session.execute(select(QueueMember).join(QueueMember.queue)
                                 .where(QueueMember.user_id == user.id)).scalars().all()
    online = [m for m in members if m.queue.mode == "online" and m.queue.active]
    if not online:
        return None
    return {"checked_in": any(m.checked_in for m in online), "queues": [m.queue.name for m in online]}


# --- lead page ----------------------------------------------------------------------------------------------------

def lead_timeline(lead: Lead) -> list[Entry]:
    narratives = [Entry(n.created_at, "narrative", n.kind_label, n.body, n.author.name if n.author else None)
                  for n in lead.narratives]
    return timeline("lead", lead.id, extra=narratives, events=False)  # every lead event has its narrative
