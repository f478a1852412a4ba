"""Reports on the shared foundation (people and units); modules declare theirs in their own reports.py."""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import case, func, select
from wtforms.fields import BooleanField, DateField, SelectField
from wtforms.validators import Optional

from portal.accounts.models import ROLES, Team, User
from portal.accounts.scope import scoped, team_subtree_ids
from portal.extensions import db
from portal.realestate.models import UNIT_STATUSES, Development, Unit
from portal.reports import charts
from portal.reports.forms import ParamsForm, PeriodForm
from portal.reports.registry import Column, Report, register
from portal.web import filters


def _local_day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=filters.local_tz()).astimezone(timezone.utc)


class UsersParams(PeriodForm):
    role = SelectField("Perfil", choices=[("", "Todos os perfis")] + list(ROLES.items()), default="")
    team = SelectField("Equipe", choices=[], default="")
    inactive = BooleanField("Incluir inativos")
    start = DateField("Cadastrados de", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"})
    end = DateField("até", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"})


@register
class UsersByRoleAndTeam(Report):
    key = "accounts.users"
    title = "Usuários por perfil e equipe"
    description = "Pessoas que você enxerga, com perfil, equipe e último acesso; gráfico por perfil."
    roles = ("manager", "cs_leader")
    form = UsersParams
    columns = [
        Column("name", "Nome", width="21%"),
        Column("email", "E-mail", width="25%"),
        Column("role", "Perfil", width="15%"),
        Column("team", "Equipe", width="12%"),
        Column("active", "Ativo", "bool", width="7%"),
        Column("last_login_at", "Último acesso", "datetime", width="20%"),
    ]

    def setup_form(self, form, user):
        teams = select(Team.id, Team.name).order_by(Team.name)
        if user.role != "admin":
            teams = teams.where(Team.id.in_(team_subtree_ids(user.id)))
        form.team.choices = [("", "Todas as equipes")] + [(str(i), n) for i, n in db.session.execute(teams)]

    def query(self, user, params):
        stmt = (scoped(user, User, User.name, User.email, User.role, Team.name.label("team"), User.active,
                       User.last_login_at)
                .select_from(User).outerjoin(Team, User.team_id == Team.id)
                .order_by(Team.name.is_(None), Team.name, User.role, User.name))
        if params.get("role"):
            stmt = stmt.where(User.role == params["role"])
        if params.get("team"):
            tree = select(Team.id).where(Team.id == int(params["team"])).cte("report_teams", recursive=True)
            tree = tree.union_all(select(Team.id).join(tree, Team.parent_id == tree.c.id))
            stmt = stmt.where(User.team_id.in_(select(tree.c.id)))
        if not params.get("inactive"):
            stmt = stmt.where(User.active.is_(True))
        if params.get("start"):
            stmt = stmt.where(User.created_at >= _local_day_start(params["start"]))
        if params.get("end"):
            stmt = stmt.where(User.created_at < _local_day_start(params["end"] + timedelta(days=1)))
        return stmt

    def rows(self, user, params):
        for row in super().rows(user, params):
            row["role"] = ROLES.get(row["role"], row["role"])
            row["team"] = row["team"] or "Sem equipe"
            yield row

    def summary(self, rows, params):
        return [("Usuários", filters.number(len(rows))),
                ("Ativos", filters.number(sum(1 for r in rows if r["active"]))),
                ("Equipes", filters.number(len({r["team"] for r in rows if r["team"] != "Sem equipe"})))]

    def chart(self, rows, params):
        counts = {}
        for row in rows:
            counts[row["role"]] = counts.get(row["role"], 0) + 1
        labels = [label for label in ROLES.values() if label in counts]
        return charts.bar_chart(labels, {"Usuários": [counts[label] for label in labels]},
                                title="Usuários por perfil")


STATUS_COLORS = {"Disponível": "#16a34a", "Reservada": "#f59e0b", "Vendida": "#1d4ed8"}


class UnitsParams(ParamsForm):
    development = SelectField("Empreendimento", choices=[], default="")


@register
class UnitsByDevelopment(Report):
    key = "realestate.units"
    title = "Unidades por empreendimento"
    description = "Quantas unidades cada empreendimento tem disponíveis, reservadas e vendidas."
    roles = ("manager", "cs_leader", "personalization")
    form = UnitsParams
    columns = [
        Column("development", "Empreendimento", width="27%"),
        Column("city", "Cidade", width="16%"),
        Column("total", "Unidades", "number"),
        Column("available", "Disponíveis", "number"),
        Column("reserved", "Reservadas", "number"),
        Column("sold", "Vendidas", "number"),
        Column("sold_pct", "Vendido", "percent"),
    ]

    def setup_form(self, form, user):
        devs = scoped(user, Development, Development.id, Development.name).order_by(Development.name)
        form.development.choices = [("", "Todos")] + [(str(i), n) for i, n in db.session.execute(devs)]

    def query(self, user, params):
        def status_count(status):
            return func.sum(case((Unit.status == status, 1), else_=0)).label(status)
        stmt = (scoped(user, Unit, Development.name.label("development"), Development.city, Development.state,
                       func.count(Unit.id).label("total"), *[status_count(s) for s in UNIT_STATUSES])
                .select_from(Unit).join(Development, Development.id == Unit.development_id)
                .group_by(Development.id, Development.name, Development.city, Development.state)
                .order_by(Development.name))
        if params.get("development"):
            stmt = stmt.where(Unit.development_id == int(params["development"]))
        return stmt

    def rows(self, user, params):
        for row in super().rows(user, params):
            row["city"] = f"{row.pop('city')}/{row.pop('state')}".strip("/")
            row["sold_pct"] = 100 * row["sold"] / row["total"] if row["total"] else 0
            yield row

    def summary(self, rows, params):
        total = sum(r["total"] for r in rows)
        sold = sum(r["sold"] for r in rows)
        return [("Empreendimentos", filters.number(len(rows))), ("Unidades", filters.number(total)),
                ("Vendidas", filters.number(sold)),
                ("Vendido", f"{filters.number(100 * sold / total if total else 0, 1)} %")]

    def chart(self, rows, params):
        return charts.bar_chart([r["development"] for r in rows],
                                {label: [r[status] for r in rows] for status, label in UNIT_STATUSES.items()},
                                title="Unidades por situação em cada empreendimento", colors=STATUS_COLORS)
