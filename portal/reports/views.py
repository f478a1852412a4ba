"""Reports: the list, one page per report (parameters → run), the run page (polls while rendering)
and the download. Rendering happens in the worker only."""
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from portal.accounts.decorators import staff_required
from portal.errors import ServiceError
from portal.extensions import db
from portal.reports import services
from portal.reports.forms import FORMATS
from portal.reports.models import ReportRun
from portal.reports.registry import REPORTS, available_to
from portal.web.forms import apply_errors

bp = Blueprint("reports", __name__, url_prefix="/relatorios")
RECENT = 20


def _recent_runs(key=None):
    stmt = services.visible_runs(current_user).where(ReportRun.user_id == current_user.id)
    if key:
        stmt = stmt.where(ReportRun.report_key == key)
    return db.session.execute(stmt.order_by(ReportRun.id.desc()).limit(RECENT)).scalars().all()


def _allowed_report_or_404(key):
    report = REPORTS.get(key)
    if report is None:
        abort(404)
    if not report.allowed(current_user):
        abort(403)
    return report


def _run_or_404(run_id) -> ReportRun:
    run = db.session.execute(services.visible_runs(current_user).where(ReportRun.id == run_id)).scalar_one_or_none()
    if run is None:
        abort(404)
    return run


@bp.route("/")
@staff_required
def index():
    return render_template("reports/index.html", reports=available_to(current_user), runs=_recent_runs(),
                           titles={k: r.title for k, r in REPORTS.items()})


@bp.route("/<key>", methods=["GET", "POST"])
@staff_required
def report(key):
    report = _allowed_report_or_404(key)
    data = request.form if request.method == "POST" else (request.args or None)
    form = report.build_form(current_user, data)
    fmt = (data or {}).get("format") or report.formats[0]
    errors = {}
    if request.method == "POST":
        try:
            run = services.request_report(current_user, key, request.form, fmt)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
            if form is not None:
                apply_errors(form, ServiceError({k: v for k, v in errors.items() if k != "format"}))
        else:
            db.session.commit()
            return redirect(url_for("reports.run", run_id=run.id), code=303)
    status = 422 if errors else 200
    return render_template("reports/report.html", report=report, form=form, fmt=fmt, errors=errors,
                           formats={f: FORMATS[f] for f in report.formats}, runs=_recent_runs(key)), status


@bp.route("/execucoes/<int:run_id>")
@staff_required
def run(run_id):
    run = _run_or_404(run_id)
    report = REPORTS.get(run.report_key)
    context = {"run": run, "report": report, "title": report.title if report else run.report_key,
               "chart": services.run_chart(run) if run.status == "done" else None,
               "params": report.describe_params(run.user, run.params) if report else []}
    template = "reports/_run_status.html" if request.htmx else "reports/run.html"
    return render_template(template, **context)


@bp.route("/execucoes/<int:run_id>/arquivo")
@staff_required
def download(run_id):
    run = _run_or_404(run_id)
    path = services.run_file(run) if run.status == "done" else None
    if path is None:
        abort(404)
    return send_file(path, mimetype=services.MIMETYPES.get(run.format, "application/octet-stream"),
                     as_attachment=True, download_name=run.file_name, max_age=0)
