"""Pre-sales figures for the dashboard and the three standard reports: one place, so the page and the
PDF show the same numbers. Every query starts from the caller's scope (`criteria(user, Lead)`) and is
a GROUP BY: the cost follows the leads of the period, not the rows sent to Python.

Definitions (a period is a range of local days, America/Sao_Paulo, both ends included):
- cohort: the leads *created* in the period (scope, development and team filters applied). Counts by
  stage, channel, media, rep (owner), team (the owner's own team) and loss reason are over the cohort.
- funnel (default pipeline): for each stage that is not a "lost" stage, the cohort leads that are not
  lost and whose current stage is that one or a later one; conversion = a stage over the previous.
- SLA: the leads whose first-response due time falls in the period. On time: answered at or before
  the due time; late: answered after it, or not answered and the due time has passed; pending: not
  answered and not due yet (left out of the percentage). SLA % = on time / (on time + late).
- first-response time: wall-clock minutes from assignment to the owner's first contact, for the
  answered leads of the SLA set, in bands (up to 15 min, 15 min-1 h, 1-4 h, over 4 h); medians and
  averages are for reports only.
- schedules (agendamentos): those scheduled in the period: done, overdue (not done, time passed),
  upcoming (not done, still ahead).
- negotiations: open leads with a negotiated value from the sales CRM, now (the period does not apply).
- activities: narratives written by a person in the period, by kind, rep and local day.
"""
from datetime import date, datetime, timezone
from functools import cached_property

from sqlalchemy import and_, case, func, literal, null, select, union_all

from portal import normalize
from portal.accounts.models import Team, User
from portal.accounts.scope import criteria
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Channel, Lead, LossReason, Media, Narrative, Schedule
from portal.presales.metrics.figures import (  # noqa: F401 - re-exported for the dashboard and reports
    ACTIVITY_KINDS, BUCKETS, NEGOTIATIONS_SHOWN, NO_OWNER, NO_TEAM, SCHEDULE_STATES, SLA_STATES, FunnelStep, Period,
    RepService, SlaCounts, Slice, _share, hour_bucket, local_midnight_utc, minutes_between, month_bounds,
    team_and_below, today_local, visible_teams)
from portal.web.filters import local_tz


class Metrics:
    """The figures one user sees for a period (and optional development / team). Each property runs
    its query once; the dashboard and the reports read the same properties."""

    def __init__(self, user, period: Period, development: int | None = None, team: int | None = None,
                 now: datetime | None = None):
        self.user, self.period = user, period
        self.development, self.team = development, team
        self.now = now or utcnow()

    # -- filters ---------------------------------------------------------------------------------------------------
    def lead_filters(self) -> list:
        """Scope + development + team (owner in the team or its sub-teams), without the period."""
        where = [criteria(self.user, Lead)]
        if self.development:
            where.append(Lead.development_id == self.development)
        if self.team:
            where.append(Lead.owner_id.in_(select(User.id).where(User.team_id.in_(team_and_below(self.team)))))
        return where

    @cached_property
    def survey(self) -> dict:
        """Satisfaction surveys sent in the period (scope, development, team): services.surveys.summary."""
        from portal.presales.services.surveys import summary
        owners = select(User.id).where(User.team_id.in_(team_and_below(self.team))) if self.team else None
        return summary(self.user, self.period.utc_start, self.period.utc_end, self.development, owners)

    def cohort(self) -> list:
        return self.lead_filters() + [Lead.created_at >= self.period.utc_start, Lead.created_at < self.period.utc_end]

    # -- cohort counts: one scan of the period's leads, several small GROUP BYs over it --------------------------
    @cached_property
    def _cohort_counts(self) -> dict[str, dict]:
        """{dimension: {key: count}} for stage+status, channel, media, owner and loss reason (lost only), from
        one statement: the cohort is read once (a materialized CTE) and grouped five ways."""
        c = (select(Lead.stage_id, Lead.status, Lead.channel_id, Lead.media_id, Lead.owner_id, Lead.loss_reason_id)
             .where(*self.cohort()).cte("cohort").prefix_with("MATERIALIZED"))

        def part(name, key, extra=None, *where):
            cols = [literal(name).label("dim"), key.label("k"), (extra if extra is not None else null()).label("s"),
                    func.count().label("n")]
            return select(*cols).where(*where).group_by(key, *([extra] if extra is not None else []))
        stmt = union_all(part("stage", c.c.stage_id, c.c.status), part("channel", c.c.channel_id),
                         part("media", c.c.media_id), part("owner", c.c.owner_id),
                         part("loss", c.c.loss_reason_id, None, c.c.status == "lost"))
        out = {d: {} for d in ("stage", "channel", "media", "owner", "loss")}
        for dim, key, status, n in db.session.execute(stmt):
            out[dim][(key, status) if dim == "stage" else key] = n
        return out

    @property
    def by_stage_status(self) -> dict[tuple[int, str], int]:
        return self._cohort_counts["stage"]

    @property
    def total(self) -> int:
        return sum(self.by_stage_status.values())

    def status_count(self, status: str) -> int:
        return sum(n for (_, s), n in self.by_stage_status.items() if s == status)

    @property
    def open(self) -> int:
        return self.status_count("open")

    @property
    def won(self) -> int:
        return self.status_count("won")

    @property
    def lost(self) -> int:
        return self.status_count("lost")

    @cached_property
    def pipeline(self):
        from portal.presales.services.config import default_pipeline
        return default_pipeline()

    @cached_property
    def funnel(self) -> list[FunnelStep]:
        if self.pipeline is None:
            return []
        stages = [s for s in self.pipeline.stages if not s.is_lost]
        current = {s.id: sum(n for (stage, status), n in self.by_stage_status.items()
                             if stage == s.id and status != "lost") for s in stages}
        steps, reached = [], 0
        for stage in reversed(stages):  # cumulative from the last stage back
            reached += current[stage.id]
            steps.append(FunnelStep(stage, reached, current[stage.id], None))
        steps.reverse()
        for prev, step in zip(steps, steps[1:]):
            step.rate = 100 * step.reached / prev.reached if prev.reached else None
        return steps

    @staticmethod
    def _named(counts: dict, names: dict, missing: str) -> list[Slice]:
        slices = sorted((Slice(i, names.get(i, "?"), n) for i, n in counts.items() if i is not None),
                        key=lambda s: (-s.count, s.label))
        if counts.get(None):
            slices.append(Slice(None, missing, counts[None]))
        return _share(slices)

    def _slices(self, dim: str, model, missing: str) -> list[Slice]:
        counts = self._cohort_counts[dim]
        ids = [i for i in counts if i is not None]
        names = dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all()) if ids else {}
        return self._named(counts, names, missing)

    @cached_property
    def by_channel(self) -> list[Slice]:
        return self._slices("channel", Channel, "Não informado")

    @cached_property
    def by_media(self) -> list[Slice]:
        return self._slices("media", Media, "Não informada")

    @cached_property
    def by_owner(self) -> list[Slice]:
        return self._slices("owner", User, NO_OWNER)

    @cached_property
    def by_team(self) -> list[Slice]:
        """By the owner's own team (leads without an owner or whose owner has no team: 'Sem equipe')."""
        people = self._people(self._cohort_counts["owner"])
        counts, names = {}, {}
        for owner_id, n in self._cohort_counts["owner"].items():
            _, team_id, team = people.get(owner_id, (None, None, NO_TEAM))
            counts[team_id] = counts.get(team_id, 0) + n
            names[team_id] = team
        return self._named(counts, names, NO_TEAM)

    @cached_property
    def loss_reasons(self) -> list[Slice]:
        return self._slices("loss", LossReason, "Sem motivo")

    def loss_notes(self, per_reason: int = 3, limit: int = 400) -> dict[int | None, list[dict]]:
        """The latest notes typed when marking cohort leads lost, per reason. The note is what follows
        "Perdido: <motivo> — " in the narrative mark_lost writes (the narrative keeps no separate field)."""
        stmt = (select(Narrative.body, Narrative.created_at, Lead.id, Lead.number, Lead.name, Lead.loss_reason_id,
                       User.name.label("author"))
                .join(Lead, Lead.id == Narrative.lead_id).outerjoin(User, User.id == Narrative.author_id)
                .where(*self.cohort(), Lead.status == "lost", Narrative.kind == "system",
                       Narrative.body.like("Perdido:% — %"))
                .order_by(Narrative.created_at.desc(), Narrative.id.desc()).limit(limit))
        notes: dict[int | None, list[dict]] = {}
        for row in db.session.execute(stmt).mappings():
            bucket = notes.setdefault(row["loss_reason_id"], [])
            if len(bucket) < per_reason:
                bucket.append({"lead_id": row["id"], "number": row["number"], "name": row["name"],
                               "author": row["author"] or "", "at": row["created_at"],
                               "note": row["body"].split(" — ", 1)[1].strip()})
        return notes

    # -- SLA and first response -------------------------------------------------------------------------------------
    def sla_filters(self) -> list:
        return self.lead_filters() + [Lead.first_response_due >= self.period.utc_start,
                                      Lead.first_response_due < self.period.utc_end]

    def response_minutes_expr(self):
        return minutes_between(Lead.first_response_at, func.coalesce(Lead.assigned_at, Lead.created_at))

    @cached_property
    def sla_by_owner(self) -> dict[int | None, SlaCounts]:
        answered = Lead.first_response_at.is_not(None)
        minutes = self.response_minutes_expr()

        def count(*conds):
            return func.sum(case((and_(*conds), 1), else_=0))
        bands = [(key, cond) for key, cond in zip(BUCKETS, (minutes <= 15, and_(minutes > 15, minutes <= 60),
                                                             and_(minutes > 60, minutes <= 240), minutes > 240))]
        stmt = (select(Lead.owner_id,
                       count(answered, Lead.first_response_at <= Lead.first_response_due),
                       count(answered, Lead.first_response_at > Lead.first_response_due),
                       count(Lead.first_response_at.is_(None), Lead.first_response_due <= self.now),
                       count(Lead.first_response_at.is_(None), Lead.first_response_due > self.now),
                       *[count(answered, cond) for _, cond in bands])
                .where(*self.sla_filters()).group_by(Lead.owner_id))
        out = {}
        for owner_id, on_time, answered_late, missed, pending, *bucket_counts in db.session.execute(stmt):
            out[owner_id] = SlaCounts(int(on_time or 0), int(answered_late or 0), int(missed or 0), int(pending or 0),
                                      {key: int(n or 0) for (key, _), n in zip(bands, bucket_counts)})
        return out

    @cached_property
    def sla(self) -> SlaCounts:
        total = SlaCounts()
        for counts in self.sla_by_owner.values():
            total.add(counts)
        return total

    def response_minutes(self) -> dict[int | None, list[float]]:
        """Minutes to first response of the answered SLA leads, per owner (reports: median, average)."""
        stmt = (select(Lead.owner_id, self.response_minutes_expr())
                .where(*self.sla_filters(), Lead.first_response_at.is_not(None)))
        out: dict[int | None, list[float]] = {}
        for owner_id, minutes in db.session.execute(stmt):
            out.setdefault(owner_id, []).append(max(0.0, float(minutes)))
        return out

    def _people(self, ids) -> dict[int, tuple[str, int | None, str]]:
        ids = [i for i in ids if i is not None]
        if not ids:
            return {}
        stmt = (select(User.id, User.name, User.team_id, Team.name).outerjoin(Team, Team.id == User.team_id)
                .where(User.id.in_(ids)))
        return {uid: (name, team_id, team or NO_TEAM) for uid, name, team_id, team in db.session.execute(stmt)}

    def service_rows(self, with_minutes: bool = True) -> tuple[list[RepService], list[RepService], RepService]:
        """(reps, teams, total) for "Atendimento ao cliente": received = cohort leads of the rep (the
        dashboard's "Leads por responsável"), SLA and minutes (for medians/averages) over the SLA set."""
        received = {s.id: s.count for s in self.by_owner}
        minutes = self.response_minutes() if with_minutes else {}
        owners = set(received) | set(self.sla_by_owner) | set(minutes)
        people = self._people(owners)
        reps = []
        for owner_id in owners:
            name, team_id, team = people.get(owner_id, (NO_OWNER, None, NO_TEAM))
            row = RepService(owner_id, name, team_id, team, received.get(owner_id, 0),
                             minutes=sorted(minutes.get(owner_id, [])))
            row.sla.add(self.sla_by_owner.get(owner_id, SlaCounts()))
            reps.append(row)
        reps.sort(key=lambda r: (r.team == NO_TEAM, r.team, r.owner_id is None, r.name))
        teams: dict[int | None, RepService] = {}
        total = RepService(None, "Total", None, "", 0)
        for rep in reps:
            team = teams.setdefault(rep.team_id, RepService(None, rep.team, rep.team_id, rep.team, 0))
            for agg in (team, total):
                agg.received += rep.received
                agg.sla.add(rep.sla)
                agg.minutes.extend(rep.minutes)
        for agg in list(teams.values()) + [total]:
            agg.minutes.sort()
        return reps, list(teams.values()), total

    # -- schedules -----------------------------------------------------------------------------------------------
    @cached_property
    def schedules(self) -> dict[str, dict[str, int]]:
        """{state: {kind: count}} for the agendamentos scheduled in the period."""
        state = case((Schedule.done_at.is_not(None), literal("done")),
                     (Schedule.scheduled_at < self.now, literal("overdue")), else_=literal("upcoming"))
        where = [criteria(self.user, Schedule), Schedule.scheduled_at >= self.period.utc_start,
                 Schedule.scheduled_at < self.period.utc_end]
        if self.development:
            where.append(Schedule.lead_id.in_(select(Lead.id).where(Lead.development_id == self.development)))
        if self.team:
            where.append(Schedule.owner_id.in_(select(User.id).where(User.team_id.in_(team_and_below(self.team)))))
        stmt = select(state, Schedule.kind, func.count(Schedule.id)).where(*where).group_by(state, Schedule.kind)
        out = {s: {} for s in SCHEDULE_STATES}
        for st, kind, n in db.session.execute(stmt):
            out[st][kind] = n
        return out

    def schedule_count(self, state: str | None = None) -> int:
        states = [state] if state else list(SCHEDULE_STATES)
        return sum(sum(self.schedules[s].values()) for s in states)

    # -- negotiations (now) ------------------------------------------------------------------------------------------
    def negotiation_filters(self) -> list:
        return self.lead_filters() + [Lead.status == "open", Lead.negotiated_value_cents.is_not(None)]

    @cached_property
    def _negotiations(self) -> tuple[int, int, list[dict]]:
        """(count, total value, the largest NEGOTIATIONS_SHOWN) from one statement (window totals)."""
        stmt = (select(Lead.id, Lead.number, Lead.name, Lead.sales_status, Lead.negotiated_value_cents,
                       User.name.label("owner"), func.count().over().label("_count"),
                       func.sum(Lead.negotiated_value_cents).over().label("_total"))
                .outerjoin(User, User.id == Lead.owner_id).where(*self.negotiation_filters())
                .order_by(Lead.negotiated_value_cents.desc(), Lead.id).limit(NEGOTIATIONS_SHOWN))
        rows = [dict(row) for row in db.session.execute(stmt).mappings()]
        if not rows:
            return 0, 0, []
        count, total = int(rows[0]["_count"]), int(rows[0]["_total"] or 0)
        return count, total, [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]

    @property
    def negotiation_totals(self) -> tuple[int, int]:
        return self._negotiations[:2]

    def negotiations(self) -> list[dict]:
        return self._negotiations[2]

    # -- activities ------------------------------------------------------------------------------------------------
    def activities(self) -> list[dict]:
        """[{day, author_id, author, team, <kind>: n, ..., total}] for narratives written by people in the
        period, on leads in scope; sorted by day then name."""
        hour = hour_bucket(Narrative.created_at)
        stmt = (select(hour, Narrative.author_id, Narrative.kind, func.count(Narrative.id))
                .join(Lead, Lead.id == Narrative.lead_id)
                .where(*self.lead_filters(), Narrative.author_id.is_not(None),
                       Narrative.kind.in_(list(ACTIVITY_KINDS)),
                       Narrative.created_at >= self.period.utc_start, Narrative.created_at < self.period.utc_end)
                .group_by(hour, Narrative.author_id, Narrative.kind))
        tz = local_tz()
        cells: dict[tuple[date, int], dict] = {}
        for bucket, author_id, kind, n in db.session.execute(stmt):
            utc = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)
            day = utc.astimezone(tz).date()  # São Paulo offsets are whole hours
            row = cells.setdefault((day, author_id), {"day": day, "author_id": author_id,
                                                      **dict.fromkeys(ACTIVITY_KINDS, 0), "total": 0})
            row[kind] += n
            row["total"] += n
        people = self._people({a for _, a in cells})
        rows = []
        for (day, author_id), row in cells.items():
            name, _, team = people.get(author_id, ("?", None, NO_TEAM))
            rows.append({**row, "author": name, "team": team})
        rows.sort(key=lambda r: (r["day"], r["author"]))
        return rows


def from_params(user, params: dict, now: datetime | None = None) -> Metrics:
    """Metrics for a report's / the dashboard's typed parameters (start, end, development, team)."""
    period = Period.resolve(params.get("start"), params.get("end"))
    return Metrics(user, period, normalize.row_id(params.get("development")), normalize.row_id(params.get("team")),
                   now=now)
