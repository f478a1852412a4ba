"""Staff: the personalization dashboard (the three reports' figures as SVG charts, plus the satisfaction survey)
and the filtered unit list its figures drill down to. Both read portal.personalize.services.dashboard, the
module the PDF/CSV reports read, so the page and the files agree; both are scoped to the staff user's
developments (admin: all). Bad filter input answers 422 with the reason next to the field."""
from flask import render_template, request, url_for
from flask_login import current_user
from wtforms.fields import BooleanField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from portal.accounts.decorators import roles_required
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.personalize.models import Option
from portal.personalize.reports import (ONLY_SUBMITTED, REPORT_KEYS, OptionsParams, methods_chart, options_chart,
                                        setup_params, stage_chart)
from portal.personalize.services import dashboard as figures
from portal.personalize.services.dashboard import STAGE_COLORS, STAGES, Filters
from portal.personalize.views import STAFF, bp
from portal.reports import charts
from portal.reports.registry import REPORTS
from portal.web import filters

try:  # the satisfaction survey is another part of the module; the dashboard works without it
    from portal.personalize.services.surveys import survey_summary
except ImportError:  # pragma: no cover - only while that part is missing
    survey_summary = None

PER_PAGE = 50
LATE_SHOWN = 10
UNIT_FILTERS = ("development", "tower")  # what the progress and values figures honour


class UnitListParams(OptionsParams):
    stage = SelectField("Situação", choices=[("", "Todas")] + list(STAGES.items()), default="")
    late = BooleanField("Só atrasadas")
    window = IntegerField("Janela", validators=[Optional(), NumberRange(min=0)])
    option = IntegerField("Opção", validators=[Optional(), NumberRange(min=1)])
    page = IntegerField("Página", validators=[Optional(), NumberRange(min=1)], default=1)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.option.data:
            option = db.session.execute(scoped(self._user, Option).where(Option.id == self.option.data)
                                        ).scalar_one_or_none()
            if option is None:
                self.option.errors = list(self.option.errors) + ["Opção desconhecida."]
                return False
            if self.item.data and str(option.item_id) != self.item.data:
                self.option.errors = list(self.option.errors) + ["A opção não é do item escolhido."]
                return False
        return ok


def _form(cls):
    form = cls(formdata=request.args or None)
    form._user = current_user
    setup_params(form, current_user)
    valid = form.validate() if request.args else True
    return form, valid


class Links:
    """Drill-down URLs: the unit list filtered like the figure, and the reports with the page's filters."""

    def __init__(self, f: Filters):
        self.f = f

    def units(self, *, with_options=False, **extra) -> str:
        base = self.f.args() if with_options else {k: v for k, v in self.f.args().items() if k in UNIT_FILTERS}
        values = {**base, **extra}
        return url_for("personalize.dashboard_units", **{k: v for k, v in values.items() if v not in (None, "")})

    def report(self, key: str, fmt: str) -> str | None:
        report = REPORTS.get(key)
        if report is None or not report.allowed(current_user):
            return None
        names = {field.name for field in report.build_form(current_user, {})}
        return url_for("reports.report", key=key, format=fmt,
                       **{k: v for k, v in self.f.args().items() if k in names})


@bp.route("/painel")
@roles_required(*STAFF)
def dashboard():
    form, valid = _form(OptionsParams)
    f = Filters.from_params(form.data) if valid else Filters()
    links = Links(f)
    unit_f = Filters(f.development_id, f.tower_id)
    p = figures.progress(current_user, unit_f)
    options = figures.option_rows(current_user, f)
    totals = figures.option_totals(options)
    values = figures.contracted_totals(figures.contracted_rows(current_user, unit_f))
    survey = survey_summary(current_user, f.development_id) if survey_summary else None
    windows = [w for w in p.windows]
    charts_ = {
        "stages": stage_chart(p.counts, {k: links.units(stage=k) for k in STAGES}) if p.total else None,
        "windows": charts.bar_chart([w.name for w in windows], {STAGES[k]: [w.counts[k] for w in windows]
                                                               for k in STAGES},
                                    title="Unidades por janela", width=420, height=240,
                                    colors={STAGES[k]: STAGE_COLORS[k] for k in STAGES}) if len(windows) > 1 else None,
        "options": options_chart(totals, lambda t: links.units(with_options=True, option=t["option_id"])),
        "methods": methods_chart(values["by_method"]),
        "survey": charts.bar_chart([str(n) for n in survey["distribution"]],
                                   {"Respostas": list(survey["distribution"].values())},
                                   title="Notas de 1 a 5", width=360, height=200)
        if survey and survey.get("answered") else None,
    }
    reports = [(REPORTS[key], links.report(key, "pdf"), links.report(key, "csv")) for key in REPORT_KEYS
               if key in REPORTS and REPORTS[key].allowed(current_user)]
    return render_template(
        "personalize/dashboard.html", form=form, f=f, p=p, options=options, option_totals=totals, values=values,
        survey=survey, survey_ready=survey_summary is not None, charts=charts_, links=links, reports=reports,
        report_links={r.key: (pdf, csv) for r, pdf, csv in reports}, stages=STAGES, only_submitted=ONLY_SUBMITTED,
        late_shown=LATE_SHOWN), 200 if valid else 422


@bp.route("/painel/unidades")
@roles_required(*STAFF)
def dashboard_units():
    form, valid = _form(UnitListParams)
    units, page, pages = [], 1, 1
    f = Filters()
    if valid:
        data = form.data
        f = Filters.from_params(data)
        units = figures.filtered_units(current_user, f, stage=data["stage"] or None, late=bool(data["late"]),
                                         window_id=data["window"], option_id=data["option"])
        pages = max(1, -(-len(units) // PER_PAGE))
        page = min(data["page"] or 1, pages)
    shown = units[(page - 1) * PER_PAGE: page * PER_PAGE]
    args = {k: v for k, v in request.args.items() if k != "page" and v not in ("", None)}
    option = db.session.get(Option, form.option.data) if valid and form.option.data else None
    return render_template(
        "personalize/dashboard_units.html", form=form, units=shown, total=len(units), page=page, pages=pages,
        args=args, option=option, stages=STAGES, window_name=_window_name(units, form.window.data if valid else None),
        money=filters.brl), 200 if valid else 422


def _window_name(units, window_id) -> str | None:
    if window_id is None:
        return None
    if window_id == figures.NO_WINDOW:
        return "Sem janela"
    return next((u.window.name for u in units if u.window is not None), "Janela sem unidades")
