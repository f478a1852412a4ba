"""The CSM's work list (due and overdue follow-ups, visits, RTS and alert tasks, like "atender
pendentes") and the journey board (accounts by phase, like the lead Kanban)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.automation.models import Task
from portal.cs import queries
from portal.cs.forms import TouchpointForm
from portal.cs.services import alerts, journey
from portal.cs.views import CS_ROLES, bp
from portal.cs.web.common import account_or_404, first_error, safe_next
from portal.extensions import db


def _csm_filter() -> int | None:
    """Leaders may narrow the list to one CSM of their team; a CSM always sees their own."""
    if current_user.role == "csm":
        return None
    wanted = queries._int(request.args.get("csm"))
    return wanted if wanted in {u.id for u in queries.team_csms(current_user)} else None


@bp.route("/pendencias")
@roles_required(*CS_ROLES)
def work():
    csm_id = _csm_filter()
    data = queries.work_list(current_user, csm_id)
    return render_template("cs/work.html", work=data, csm_id=csm_id,
                           csms=queries.team_csms(current_user) if current_user.role != "csm" else [],
                           form=TouchpointForm(formdata=None))


@bp.route("/pendencias/<int:account_id>/contato", methods=["POST"])
@roles_required(*CS_ROLES)
def work_touchpoint(account_id):
    """Log a contact from the work list: htmx answers the row, now showing the next due dates."""
    account = account_or_404(account_id)
    form = TouchpointForm()
    try:
        journey.log_touchpoint(account, {"kind": form.kind.data, "summary": form.summary.data}, current_user)
    except ServiceError as exc:
        db.session.rollback()
        account = account_or_404(account_id)
        for key, message in exc.errors.items():
            field = getattr(form, key, None)
            if field is not None:
                field.errors = list(field.errors) + [message]
        item = queries.work_item(account)
        if request.htmx and item is not None:
            return render_template("cs/partials/work_row.html", item=item, form=form, open_form=True), 422
        flash(first_error(exc), "error")
        return redirect(url_for(".work"))
    db.session.commit()
    if request.htmx:
        return render_template("cs/partials/work_done.html", account=account, item=queries.work_item(account),
                               work=queries.work_list(current_user, _csm_filter()))
    flash(f"Contato com {account.name} registrado. Próximo follow-up: {account.next_follow_up_br}.", "success")
    return redirect(safe_next(url_for(".work")))


@bp.route("/tarefas/<int:task_id>/concluir", methods=["POST"])
@roles_required(*CS_ROLES)
def task_done(task_id):
    task = get_scoped_or_404(current_user, Task, task_id)
    alerts.complete_task(task, current_user)
    db.session.commit()
    if request.htmx:
        return ""
    flash("Alerta concluído.", "success")
    return redirect(safe_next(url_for(".work")))


# ---- journey board ---------------------------------------------------------------------------------------

def _board(status=200, message=None):
    filters = queries.AccountFilters.from_args(request.args if request.method == "GET" else request.form)
    columns = queries.board(current_user, filters)
    template = "cs/partials/board.html" if request.htmx else "cs/board.html"
    return render_template(template, columns=columns, filters=filters, message=message, failed=status >= 400,
                           csms=queries.team_csms(current_user) if current_user.role != "csm" else []), status


@bp.route("/jornada")
@roles_required(*CS_ROLES)
def board():
    return _board()


@bp.route("/contas/<int:account_id>/fase", methods=["POST"])
@roles_required(*CS_ROLES)
def phase_move(account_id):
    """Move to a phase from the board (htmx: the whole board comes back) or from the account page."""
    account = account_or_404(account_id)
    phase = request.form.get("phase") or ""
    back = safe_next(url_for(".account", account_id=account.id))
    try:
        journey.change_phase(account, phase, current_user, request.form.get("note") or "")
    except ServiceError as exc:
        db.session.rollback()
        if request.htmx:
            return _board(409, first_error(exc))
        flash(first_error(exc), "error")
        return redirect(back)
    db.session.commit()
    message = f"{account.name} movida para {account.phase_label}."
    if request.htmx:
        return _board(200, message)
    flash(message, "success")
    return redirect(back)
