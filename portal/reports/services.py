"""Report runs: requested in the web (`request_report`), rendered by a job (`render_run`) through
`render_to_file` (PDF with WeasyPrint, CSV for Excel pt-BR), e-mailed by rules (`email_report`).

The web process never renders: every run goes to the "low" queue and the page polls its progress.
"""
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from markupsafe import Markup
from sqlalchemy import or_, select, update

from portal import jobs, normalize
from portal.accounts.models import User
from portal.accounts.scope import criteria
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.reports.forms import FORMATS
from portal.reports.models import ReportRun
from portal.reports.pdf import render_document
from portal.reports.registry import REPORTS, Report
from portal.web import csv_export, filters

MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv"}
PROGRESS_EVERY = 500  # rows between progress commits while reading
# Share of the progress bar each PDF phase ends at: reading rows, laying out pages, writing.
READ_END, LAYOUT_END = 30, 92


@dataclass
class RenderedFile:
    """A rendered report file; unpacks as `path, filename = render_to_file(...)`."""
    path: str
    filename: str
    rows: int
    sha256: str
    mimetype: str

    def __iter__(self):
        return iter((self.path, self.filename))


def get_report_or_error(key: str, user=None) -> Report:
    report = REPORTS.get(key or "")
    if report is None:
        raise ServiceError({"report": "Relatório desconhecido."})
    if user is not None and not report.allowed(user):
        raise ServiceError({"report": "Seu perfil não pode gerar este relatório."})
    return report


def _check_format(report: Report, fmt: str) -> None:
    if fmt not in report.formats or fmt not in FORMATS:
        raise ServiceError({"format": "Escolha um formato válido."})


# ---- web: request a run -----------------------------------------------------------------------

def request_report(user: User, key: str, params, fmt: str) -> ReportRun:
    """Validate and record the request; the render job is enqueued when the caller commits."""
    report = get_report_or_error(key, user)
    _check_format(report, fmt)
    stored, _ = report.clean_params(user, params)
    run = ReportRun(user_id=user.id, report_key=key, params=stored, format=fmt, status="queued", progress=0)
    db.session.add(run)
    db.session.flush()
    jobs.enqueue_after_commit(db.session, render_run, run.id, queue_name="low", retry=False,
                              job_id=f"report-run-{run.id}")
    return run


def visible_runs(user: User):
    """Runs the user may open: their own, plus what the scope shows (managers: their team's)."""
    return select(ReportRun).where(or_(ReportRun.user_id == user.id, criteria(user, ReportRun)))


def run_file(run: ReportRun) -> str | None:
    """Absolute path of a finished run's file (stored relative to REPORTS_DIR), if it still exists."""
    if not run.file_path:
        return None
    root = os.path.realpath(current_app.config["REPORTS_DIR"])
    path = os.path.realpath(os.path.join(root, run.file_path))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def run_chart(run: ReportRun) -> Markup | None:
    """The chart drawn into the run's PDF, to show the very same SVG in the page."""
    path = run_file(run)
    if path and os.path.isfile(path + ".svg"):
        with open(path + ".svg", encoding="utf-8") as fh:
            return Markup(fh.read())  # written by charts.py, labels already escaped
    return None


# ---- job: render a run ------------------------------------------------------------------------

def render_run(run_id: int) -> str:
    """Job: claim the queued run, render it with progress, record the file or the error."""
    claimed = db.session.execute(
        update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == "queued")
        .values(status="running", started_at=utcnow(), progress=0, error=None)
    ).rowcount
    db.session.commit()
    if not claimed:  # a duplicate job, or the run is already finished
        return "not-claimed"
    run = db.session.get(ReportRun, run_id)
    user, key, params, fmt = run.user, run.report_key, dict(run.params or {}), run.format
    shown = {"progress": 0, "rows": 0}

    def progress(pct: int, rows_done: int) -> None:
        if pct < shown["progress"] or (pct, rows_done) == (shown["progress"], shown["rows"]):
            return
        shown.update(progress=pct, rows=rows_done)
        db.session.execute(update(ReportRun).where(ReportRun.id == run_id).values(progress=pct, rows=rows_done))
        db.session.commit()

    if not user.active:
        return _fail(run_id, "Quem pediu o relatório está com o acesso desativado.")
    try:
        out = render_to_file(user, key, params, fmt, progress=progress)
    except Exception as exc:  # any failure ends the run as failed, with its reason in the page
        db.session.rollback()
        current_app.logger.warning("report run %s failed", run_id, exc_info=True)
        return _fail(run_id, error_message(exc))
    db.session.execute(update(ReportRun).where(ReportRun.id == run_id).values(
        status="done", progress=100, rows=out.rows, file_name=out.filename, sha256=out.sha256,
        file_path=os.path.relpath(out.path, current_app.config["REPORTS_DIR"]), finished_at=utcnow()))
    db.session.commit()
    return "done"


def _fail(run_id: int, message: str) -> str:
    db.session.execute(update(ReportRun).where(ReportRun.id == run_id).values(
        status="failed", error=message, finished_at=utcnow()))
    db.session.commit()
    return "failed"


def error_message(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        params = [v for k, v in exc.errors.items() if k != "report"]
        return "; ".join(([exc.errors["report"]] if "report" in exc.errors else [])
                         + (["Parâmetros inválidos: " + "; ".join(params)] if params else []))
    return f"{exc.__class__.__name__}: {exc}"[:2000]


# ---- the building block: one report → one file ------------------------------------------------

def render_to_file(user: User, key: str, params, fmt: str, *, progress=None, folder: str | None = None) -> RenderedFile:
    """Render synchronously (worker only) under REPORTS_DIR; `progress(pct, rows_done)` is called
    every PROGRESS_EVERY rows and as PDF pages are laid out."""
    report = get_report_or_error(key, user)
    _check_format(report, fmt)
    stored, typed = report.clean_params(user, params)
    progress = progress or (lambda pct, rows_done: None)
    folder = folder or os.path.join(current_app.config["REPORTS_DIR"], utcnow().strftime("%Y/%m"))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4().hex}.{fmt}")
    filename = f"{report.file_stem(typed)}-{filters.to_local(utcnow()).strftime('%Y-%m-%d')}.{fmt}"
    total = report.count(user, typed)
    read_end = READ_END if fmt == "pdf" else 95
    keep_rows = fmt == "pdf" or type(report).chart is not Report.chart
    rows, count = [], 0

    def each_row():
        nonlocal count
        for row in report.rows(user, typed):
            count += 1
            if keep_rows:
                rows.append(row)
            yield row
            if count % PROGRESS_EVERY == 0:
                progress(min(read_end, read_end * count // total) if total else 1, count)

    tmp, chart = path + ".part", None
    try:
        if fmt == "csv":
            _write_csv(tmp, report, each_row())
            chart = report.chart(rows, typed) if keep_rows else None
        else:
            for _ in each_row():
                pass
            progress(READ_END, count)
            chart = report.chart(rows, typed)
            html = render_html(user, report, stored, typed, rows, chart)
            pages = max(1, -(-count // report.rows_per_page))
            _write_pdf(tmp, html, lambda page: progress(
                READ_END + (LAYOUT_END - READ_END) * min(page, pages) // pages, count))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if chart:
        with open(path + ".svg", "w", encoding="utf-8") as fh:
            fh.write(str(chart))
    return RenderedFile(path, filename, count, _sha256(path), MIMETYPES[fmt])


def render_html(user: User, report: Report, stored: dict, typed: dict, rows: list[dict], chart=None) -> str:
    """The HTML that WeasyPrint turns into the PDF (also handy for benchmarks and previews)."""
    template = current_app.jinja_env.get_template(report.template)
    return template.render(
        report=report, title=report.title, columns=report.columns, rows=rows,
        cells=([c.display(row.get(c.key)) for c in report.columns] for row in rows),
        chart=chart, summary=report.summary(rows, typed),
        params=report.describe_params(user, stored), requester=user,
        generated_at=filters.datetime_br(utcnow()), company_name=current_app.config["COMPANY_NAME"])


def _write_csv(path: str, report: Report, rows) -> None:
    csv_export.write_file(path, [c.label for c in report.columns],
                          ([c.csv(row.get(c.key)) for c in report.columns] for row in rows))


def _write_pdf(path: str, html: str, on_page) -> None:
    render_document(html, document=f"report file {os.path.basename(path)}", on_page=on_page).write_pdf(path)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---- rules: e-mail a report -------------------------------------------------------------------

def _run_as(run_as_user) -> User:
    if isinstance(run_as_user, User):
        return run_as_user
    if run_as_user is not None:
        user = db.session.get(User, int(run_as_user))
    else:  # rules are written by admins: without an author, the report sees what an admin sees
        user = db.session.execute(select(User).where(User.role == "admin", User.active.is_(True))
                                  .order_by(User.id).limit(1)).scalar()
    if user is None or not user.active:
        raise ServiceError({"run_as_user": "Nenhum usuário ativo para gerar o relatório."})
    return user


def email_report(report_key: str, params, fmt: str, recipients: list[str], run_as_user=None, *,
                 key: str | None = None) -> list:
    """Render the report as `run_as_user` (default: the first active admin) and queue one e-mail
    per recipient with the file attached. Idempotent: the delivery keys come from `key` (e.g. the
    rule and its slot) or from report + format + params + today's date, so a retry or a second call
    the same day sends nothing new. The caller commits."""
    from portal.automation.deliveries import queue_delivery
    from portal.automation.models import Delivery

    user = _run_as(run_as_user)
    report = get_report_or_error(report_key, user)
    _check_format(report, fmt)
    try:
        addresses = list(dict.fromkeys(normalize.email(r) for r in recipients if (r or "").strip()))
    except normalize.InvalidValue as exc:
        raise ServiceError({"recipients": str(exc)}) from exc
    stored, typed = report.clean_params(user, params)
    today = filters.to_local(utcnow()).date()
    digest = hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()[:16]
    base = key or f"report:{report_key}:{fmt}:{digest}:{today.isoformat()}"
    keys = {address: f"{base}:{address}" for address in addresses}
    sent = set(db.session.execute(select(Delivery.idempotency_key)
                                  .where(Delivery.idempotency_key.in_(list(keys.values())))).scalars())
    pending = [a for a in addresses if keys[a] not in sent]
    if not pending:
        return []
    out = render_to_file(user, report_key, stored, fmt, folder=os.path.join(
        current_app.config["REPORTS_DIR"], "email", today.strftime("%Y/%m")))
    subject, text, html = _email_content(report=report, params=report.describe_params(user, stored), rows=out.rows,
                                         filename=out.filename, generated_at=filters.datetime_br(utcnow()))
    attachment = {"path": out.path, "filename": out.filename, "mimetype": out.mimetype}
    return [queue_delivery(channel="email", recipient=a, subject=subject, body=text, html=html, key=keys[a],
                           subject_type="report", attachments=[attachment]) for a in pending]


def _email_content(**context) -> tuple[str, str, str]:
    template = current_app.jinja_env.get_template("reports/email.html")
    ctx = template.new_context({**current_app.jinja_env.globals, **context, "config": current_app.config})
    return tuple("".join(template.blocks[name](ctx)).strip() for name in ("subject", "text", "html"))


@jobs.periodic(cron="30 3 * * *")
def purge_expired_files(now=None) -> int:
    """Daily: delete report files older than REPORT_RETENTION_DAYS (runs become "expired", e-mailed
    attachments are removed) so the disk does not grow forever. Returns how many files were deleted."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["REPORT_RETENTION_DAYS"])
    deleted = 0
    runs = db.session.execute(select(ReportRun).where(ReportRun.status == "done",
                                                      ReportRun.finished_at < cutoff)).scalars().all()
    for run in runs:
        path = run_file(run)
        if path:
            os.remove(path)
            deleted += 1
        run.status = "expired"
    db.session.commit()
    email_root = os.path.join(current_app.config["REPORTS_DIR"], "email")
    for folder, _, names in os.walk(email_root):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.getmtime(path) < cutoff.timestamp():
                os.remove(path)
                deleted += 1
    return deleted
