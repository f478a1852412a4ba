"""Pre-sales dashboard (scoped by hierarchy, period filter) with SVG charts and drill-down links.

The figures come from portal.presales.metrics (the same the three reports print). Each bar is an SVG
<a href> to the leads list filtered like the bar: the page's period (created_from/created_to, or
due_from/due_to for SLA bars), development and team, plus the bar's own filter (stage, channel, ...).
No averages here: medians and averages are in the "Atendimento ao cliente" report.
"""
from datetime import timedelta

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from portal.accounts.decorators import roles_required
from portal.presales import metrics
from portal.presales.metrics import BUCKETS, SCHEDULE_STATES, SLA_STATES
from portal.presales.reports import REPORT_KEYS, PresalesParams, setup_params
from portal.presales.services.schedules import SCHEDULE_KINDS
from portal.reports import charts
from portal.reports.charts import PALETTE, _fit, _fmt, _svg, _text
from portal.reports.registry import REPORTS
from portal.web.filters import number

bp = Blueprint("presales_dashboard", __name__, url_prefix="/pre-vendas/painel")
TOP = 12  # bars per categorical chart; the rest is summed in "Outros"
SHORT_BUCKETS = {"le15": "≤ 15 min", "le60": "15–60 min", "le240": "1–4 h", "gt240": "> 4 h"}
HIT = 'fill="#1d4ed8" fill-opacity="0"'  # invisible hit area; CSS tints it on hover/focus


# --- charts with links ---------------------------------------------------------------------------------------------

def _link(href, label, inner: str) -> str:
    return (f'<a class="chart-link" href="{escape(href)}" aria-label="{escape(label)}">'
            f'<title>{escape(label)}</title>{inner}</a>')


def hbar_chart(items: list[tuple[str, float, str | None]], *, title: str, width: int = 340, color: str = PALETTE[0],
               percent: bool = False, row_height: int = 30) -> Markup:
    """Horizontal bars (label, value, href or None): readable on a phone, each row a link when it has one."""
    label_w = min(240, int(width * 0.48))
    value_w = 64 if percent else 44
    plot_w = width - label_w - value_w
    top_value = max((v or 0 for _, v, _ in items), default=0) or 1
    height = row_height * len(items) + 8
    body = []
    for i, (label, value, href) in enumerate(items):
        y = 4 + i * row_height
        mid = y + row_height / 2 + 4
        w = plot_w * (value or 0) / top_value
        shown = f"{number(value, 1)} %" if percent and value is not None else _fmt(value or 0)
        parts = [_text(label_w - 8, mid, _fit(label, label_w - 8), anchor="end"),
                 f'<rect class="bar" x="{label_w}" y="{y + 6}" width="{max(w, 2 if value else 0):.1f}" '
                 f'height="{row_height - 12}" rx="3" fill="{color}"/>',
                 _text(label_w + w + 6, mid, shown, weight="bold")]
        if href:
            hit = f'<rect class="hit" x="0" y="{y}" width="{width}" height="{row_height}" {HIT}/>'
            body.append(_link(href, f"{label}: {shown}", hit + "".join(parts)))
        else:
            body += parts
    return _svg(width, height, title, body)


def _overlay(svg: Markup, areas: list[tuple[float, float, float, float, str | None, str]]) -> Markup:
    """Clickable transparent areas (x, y, w, h, href, label) on top of a portal.reports.charts chart."""
    return charts.with_links(svg, [_link(href, label, f'<rect class="hit" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                                                      f'height="{h:.1f}" {HIT}/>')
                                   for x, y, w, h, href, label in areas if href])


def linked_funnel(steps: list[tuple[str, float, str | None]], *, title: str, width: int = 380) -> Markup:
    """charts.funnel_chart with each row linking (its rows are `row_height` tall from y=4)."""
    row_height = 34
    svg = charts.funnel_chart([(label, value) for label, value, _ in steps], title=title, width=width,
                              row_height=row_height)
    return _overlay(svg, [(0, 4 + i * row_height, width, row_height, href, f"{label}: {_fmt(value)}")
                          for i, (label, value, href) in enumerate(steps)])


def linked_bars(labels: list[str], series: dict[str, list[float]], hrefs: list[str | None], *, title: str,
                width: int = 340, height: int = 220, colors: dict | None = None,
                names: list[str] | None = None) -> Markup:
    """charts.bar_chart with each label's column (bar, figure and label) linking, named by `names` (default:
    the labels); the chart's plot starts at x=48 and ends 12 px from the right edge."""
    svg = charts.bar_chart(labels, series, title=title, width=width, height=height, colors=colors)
    slot = (width - 48 - 12) / max(len(labels), 1)
    totals = [sum(s[i] or 0 for s in series.values()) for i in range(len(labels))]
    return _overlay(svg, [(48 + slot * i, 0, slot, height, href, f"{label}: {_fmt(totals[i])}")
                          for i, (label, href) in enumerate(zip(names or labels, hrefs))])


def survey_chart(survey: dict, *, width: int = 340) -> Markup:
    """The 1..5 answers of the satisfaction survey, one bar per score (the dashboard and the Feedback report)."""
    from portal.surveys import SCORES
    return hbar_chart([(f"{n} · {label}", survey["distribution"][n], None) for n, label in reversed(SCORES.items())],
                      title="Respostas da pesquisa de satisfação", width=width, color=PALETTE[1])


# --- links ------------------------------------------------------------------------------------------------------

def safe_url(endpoint: str, **values) -> str | None:
    """url_for, or None while the target screen does not exist (the link is then left out)."""
    try:
        return url_for(endpoint, **{k: v for k, v in values.items() if v not in (None, "")})
    except BuildError:
        return None


class Links:
    """Drill-down URLs: the leads list (presales.leads) filtered like the figure."""

    def __init__(self, m: metrics.Metrics):
        self.m = m
        self.base = {"development": m.development, "team": m.team}
        self.cohort = {**self.base, "created_from": m.period.start.isoformat(), "created_to": m.period.end.isoformat()}
        self.due = {**self.base, "due_from": m.period.start.isoformat(), "due_to": m.period.end.isoformat()}

    def leads(self, **extra) -> str | None:
        return safe_url("presales.leads", **{**self.cohort, **extra})

    def sla(self, **extra) -> str | None:
        return safe_url("presales.leads", **{**self.due, **extra})

    def schedules(self, state: str) -> str | None:
        return safe_url("presales.leads", **self.base, schedule=state, scheduled_from=self.m.period.start.isoformat(),
                        scheduled_to=self.m.period.end.isoformat())

    def negotiating(self) -> str | None:
        return safe_url("presales.leads", **self.base, negotiating=1)

    def lead(self, lead_id: int) -> str | None:
        return safe_url("presales.lead", lead_id=lead_id)

    def report(self, key: str) -> str | None:
        return safe_url("reports.report", key=key, format="pdf", **self.m.period.args(), **self.base)


def _top(slices: list[metrics.Slice], href) -> list[tuple[str, int, str | None]]:
    items = [(s.label, s.count, href(s) if s.id is not None else None) for s in slices[:TOP]]
    rest = sum(s.count for s in slices[TOP:])
    if rest:
        items.append((f"Outros ({len(slices) - TOP})", rest, None))
    return items


def build(m: metrics.Metrics, user) -> dict:
    """Everything the page shows, as figures, links and SVG."""
    links = Links(m)
    leader = user.role in ("admin", "manager")
    funnel = [(step.stage.name, step.reached, links.leads(stage=step.stage.id)) for step in m.funnel]
    sla = m.sla
    buckets = [sla.buckets[key] for key in BUCKETS]
    kinds = SCHEDULE_KINDS
    schedule_series = {label: [m.schedules[state].get(kind, 0) for state in SCHEDULE_STATES]
                       for kind, label in kinds.items()}
    extra = {k for state in SCHEDULE_STATES for k in m.schedules[state] if k not in kinds}
    for kind in sorted(extra):
        schedule_series[kind] = [m.schedules[state].get(kind, 0) for state in SCHEDULE_STATES]
    charts_ = {
        "funnel": linked_funnel(funnel, title="Funil por etapa") if m.total else None,
        "channel": hbar_chart(_top(m.by_channel, lambda s: links.leads(channel=s.id)), title="Leads por canal")
        if m.by_channel else None,
        "media": hbar_chart(_top(m.by_media, lambda s: links.leads(media=s.id)), title="Leads por mídia",
                            color=PALETTE[5]) if m.by_media else None,
        "owner": hbar_chart(_top(m.by_owner, lambda s: links.leads(owner=s.id)), title="Leads por responsável",
                            color=PALETTE[4]) if leader and m.by_owner else None,
        "team": hbar_chart(_top(m.by_team, lambda s: links.leads(team=s.id)), title="Leads por equipe",
                           color=PALETTE[1]) if leader and m.by_team else None,
        "response": linked_bars(list(SHORT_BUCKETS.values()), {"Leads": buckets},
                                [links.sla(response=key) for key in BUCKETS], names=list(BUCKETS.values()),
                                title="Tempo até a primeira resposta") if sla.answered else None,
        "schedules": linked_bars(list(SCHEDULE_STATES.values()), schedule_series,
                                 [links.schedules(state) for state in SCHEDULE_STATES], title="Agendamentos",
                                 colors={"Visita": PALETTE[4], "Retorno por telefone": PALETTE[0],
                                         "Reunião": PALETTE[5]}) if m.schedule_count() else None,
        "loss": hbar_chart(_top(m.loss_reasons, lambda s: links.leads(status="lost", loss_reason=s.id)),
                           title="Motivos de perda", color="#dc2626") if m.loss_reasons else None,
        "survey": survey_chart(m.survey) if m.survey["answered"] else None,
    }
    reps = m.service_rows(with_minutes=False)[0] if leader else []
    count, value = m.negotiation_totals
    report_links = {key: links.report(key) for key in REPORT_KEYS if key in REPORTS and REPORTS[key].allowed(user)}
    return {"m": m, "links": links, "charts": charts_, "leader": leader, "sla": sla, "sla_states": SLA_STATES,
            "schedule_states": [(state, label, m.schedule_count(state)) for state, label in SCHEDULE_STATES.items()],
            "service": [r for r in reps if r.sla.total], "negotiations": m.negotiations(), "negotiation_count": count,
            "negotiation_value": value, "report_links": report_links,
            "reports": [(REPORTS[key], url) for key, url in report_links.items()]}


# --- the page ---------------------------------------------------------------------------------------------------

@bp.route("/")
@roles_required("manager", "sdr", "broker")
def index():
    form = PresalesParams(formdata=request.args or None)
    setup_params(form, current_user)
    valid = form.validate() if request.args else True
    params = form.data if valid else {}
    m = metrics.from_params(current_user, params)
    if not valid:  # show the errors next to the fields, the figures of the default period
        form.start.data, form.end.data = m.period.start, m.period.end
    shortcuts = _shortcuts(m)
    return render_template("presales/dashboard.html", form=form, shortcuts=shortcuts, **build(m, current_user))


def _shortcuts(m: metrics.Metrics) -> list[tuple[str, str, bool]]:
    """'Este mês', 'Mês passado', 'Últimos 7 dias' keeping the development/team filters."""
    today = metrics.today_local()
    this = metrics.month_bounds(today)
    last = metrics.month_bounds(this[0] - timedelta(days=1))
    week = (today - timedelta(days=6), today)
    base = {"development": m.development, "team": m.team}
    out = []
    for label, (start, end) in (("Este mês", this), ("Mês passado", last), ("Últimos 7 dias", week)):
        out.append((label, safe_url(".index", start=start.isoformat(), end=end.isoformat(), **base),
                    (m.period.start, m.period.end) == (start, end)))
    return out
