"""The three standard pre-sales reports (PDF/CSV through portal.reports), read from portal.presales.metrics
so the PDF holds the same numbers as the dashboard for the same period and filters."""
from markupsafe import Markup
from wtforms.fields import DateField, SelectField
from wtforms.validators import Optional

from portal.accounts.scope import scoped
from portal.extensions import db
from portal.presales import metrics
from portal.presales.metrics import ACTIVITY_KINDS, month_bounds, today_local
from portal.realestate.models import Development
from portal.reports import charts
from portal.reports.forms import PeriodForm
from portal.reports.registry import Column, Report, register
from portal.web import filters

LEADERS = ("manager",)  # admin always may
CONTACT_KINDS = ("call", "email", "whatsapp", "visit", "meeting")


def _month_start():
    return month_bounds(today_local())[0]


def _month_end():
    return month_bounds(today_local())[1]


class PresalesParams(PeriodForm):
    """Period (default: the current month) + development + team: the dashboard's filter form too."""
    start = DateField("De", validators=[Optional()], format="%Y-%m-%d", default=_month_start,
                      render_kw={"type": "date"})
    end = DateField("Até", validators=[Optional()], format="%Y-%m-%d", default=_month_end,
                    render_kw={"type": "date"})
    development = SelectField("Empreendimento", choices=[], default="")
    team = SelectField("Equipe", choices=[], default="")


def setup_params(form, user) -> None:
    devs = scoped(user, Development, Development.id, Development.name).order_by(Development.name)
    form.development.choices = [("", "Todos")] + [(str(i), n) for i, n in db.session.execute(devs)]
    form.team.choices = [("", "Todas")] + [(str(t.id), t.name) for t in metrics.visible_teams(user)]


def _pct(value) -> str:
    return "—" if value is None else f"{filters.number(value, 1)} %"


def _minutes(value) -> str:
    return "—" if value is None else f"{filters.number(value, 1)} min"


class PresalesReport(Report):
    roles = LEADERS
    form = PresalesParams

    def setup_form(self, form, user):
        setup_params(form, user)

    def metrics(self, user, params) -> metrics.Metrics:
        return metrics.from_params(user, params)


# --- Atendimento ao cliente ---------------------------------------------------------------------------------------

@register
class CustomerService(PresalesReport):
    key = "presales.service"
    title = "Atendimento ao cliente"
    description = ("Por responsável e equipe: leads recebidos no período, respondidos, no prazo e fora do prazo de "
                   "primeira resposta (SLA), mediana e média dos minutos até a primeira resposta.")
    landscape = True
    columns = [
        Column("team", "Equipe", width="17%"),
        Column("name", "Responsável", width="17%"),
        Column("received", "Recebidos", "number"),
        Column("answered", "Respondidos", "number"),
        Column("on_time", "No prazo", "number"),
        Column("late", "Fora do prazo", "number"),
        Column("pending", "Em andamento", "number"),
        Column("sla_pct", "SLA no prazo", "percent"),
        Column("median", "Mediana (min)", "number", digits=1),
        Column("mean", "Média (min)", "number", digits=1),
    ]

    @staticmethod
    def _row(row: metrics.RepService, team: str, name: str, kind: str) -> dict:
        return {"team": team, "name": name, "kind": kind, "received": row.received, "answered": row.sla.answered,
                "on_time": row.sla.on_time, "late": row.sla.late, "pending": row.sla.pending,
                "sla_pct": row.sla.percent, "median": row.median, "mean": row.mean}

    def rows(self, user, params):
        reps, teams, total = self.metrics(user, params).service_rows()
        by_team = {t.team_id: t for t in teams}
        size = {t.team_id: sum(1 for r in reps if r.team_id == t.team_id) for t in teams}
        for i, rep in enumerate(reps):
            yield self._row(rep, rep.team, rep.name, "rep")
            last_of_team = i + 1 == len(reps) or reps[i + 1].team_id != rep.team_id
            if last_of_team and len(teams) > 1 and size[rep.team_id] > 1:  # a one-rep team is its own subtotal
                yield self._row(by_team[rep.team_id], rep.team, "Subtotal da equipe", "team")
        if reps:
            yield self._row(total, "", "Total", "total")

    def summary(self, rows, params):
        total = next((r for r in rows if r["kind"] == "total"), None)
        if total is None:
            return [("Leads recebidos", "0"), ("SLA no prazo", "—")]
        return [("Leads recebidos", filters.number(total["received"])),
                ("Respondidos", filters.number(total["answered"])),
                ("SLA no prazo", _pct(total["sla_pct"])),
                ("Mediana da 1ª resposta", _minutes(total["median"]))]

    def chart(self, rows, params):
        reps = [r for r in rows if r["kind"] == "rep" and (r["on_time"] or r["late"])]
        if not reps:
            return None
        return charts.bar_chart([r["name"] for r in reps],
                                {"No prazo": [r["on_time"] for r in reps], "Fora do prazo": [r["late"] for r in reps]},
                                title="Primeira resposta no prazo e fora do prazo por responsável",
                                colors={"No prazo": "#16a34a", "Fora do prazo": "#dc2626"}, width=900, height=200)


# --- Feedback do cliente ------------------------------------------------------------------------------------------

@register
class CustomerFeedback(PresalesReport):
    key = "presales.feedback"
    title = "Feedback do cliente"
    description = ("Motivos de perda dos leads que entraram no período, com quantidade e participação, e as últimas "
                   "anotações feitas ao marcar a perda; e a pesquisa de satisfação com a pré-venda enviada no "
                   "período (após o envio ao time de vendas): enviadas, respondidas, nota média e notas de 1 a 5.")
    template = "presales/dashboard_feedback_pdf.html"
    columns = [
        Column("reason", "Motivo da perda", width="60%"),
        Column("count", "Leads", "number"),
        Column("share", "Participação", "percent"),
    ]

    def rows(self, user, params):
        m = self.metrics(user, params)
        # summary() and chart() get the params but not the user: the survey figures (scoped) ride along.
        params["_survey"] = m.survey
        notes = m.loss_notes()
        for s in m.loss_reasons:
            yield {"reason": s.label, "count": s.count, "share": s.share, "notes": notes.get(s.id, []),
                   "_cohort": m.total}

    def summary(self, rows, params):
        lost = sum(r["count"] for r in rows)
        cohort = rows[0]["_cohort"] if rows else None
        out = [("Leads perdidos", filters.number(lost)), ("Motivos", filters.number(len(rows)))]
        if cohort:
            out.insert(0, ("Leads que entraram", filters.number(cohort)))
            out.append(("Perdidos / entraram", _pct(100 * lost / cohort)))
        survey = params.get("_survey")
        if survey:
            out += [("Pesquisas enviadas", filters.number(survey["sent"])),
                    ("Respondidas", filters.number(survey["answered"])),
                    ("Nota média",
                     "—" if survey["average"] is None else filters.number(survey["average"], 1))]
        return out

    def chart(self, rows, params):
        from portal.presales.dashboard import hbar_chart, survey_chart
        parts = []  # two charts in one: each named on the page and in the PDF, where SVG titles do not show
        if rows:
            parts.append(("Leads perdidos por motivo", hbar_chart(
                [(r["reason"], r["count"], None) for r in rows], title="Leads perdidos por motivo", width=640,
                color="#dc2626")))
        survey = params.get("_survey")
        if survey and survey["answered"]:
            parts.append(("Respostas da pesquisa de satisfação (1 a 5)", survey_chart(survey, width=640)))
        return Markup("").join(Markup('<figure class="report-chart"><figcaption>{}</figcaption>{}</figure>')
                               .format(caption, svg) for caption, svg in parts) if parts else None


# --- Atividades de pré-vendas -------------------------------------------------------------------------------------

@register
class PresalesActivities(PresalesReport):
    key = "presales.activities"
    title = "Atividades de pré-vendas"
    description = ("Registros feitos por cada pessoa nos leads, por dia e por tipo: ligações, e-mails, WhatsApp, "
                   "visitas, reuniões, anotações, mudanças de etapa e qualificações.")
    landscape = True
    columns = ([Column("day", "Dia", "date", width="9%"), Column("author", "Responsável", width="17%")]
               + [Column(kind, label, "number") for kind, label in ACTIVITY_KINDS.items()]
               + [Column("total", "Total", "number")])

    def rows(self, user, params):
        yield from self.metrics(user, params).activities()

    def summary(self, rows, params):
        total = sum(r["total"] for r in rows)
        contacts = sum(r[k] for r in rows for k in CONTACT_KINDS)
        return [("Atividades", filters.number(total)), ("Contatos com clientes", filters.number(contacts)),
                ("Pessoas", filters.number(len({r["author_id"] for r in rows}))),
                ("Dias com atividade", filters.number(len({r["day"] for r in rows})))]

    def chart(self, rows, params):
        if not rows:
            return None
        from portal.presales.dashboard import hbar_chart
        totals = [(label, sum(r[kind] for r in rows), None) for kind, label in ACTIVITY_KINDS.items()]
        return hbar_chart([t for t in totals if t[1]], title="Atividades por tipo no período", width=640)


REPORT_KEYS = (CustomerService.key, CustomerFeedback.key, PresalesActivities.key)
