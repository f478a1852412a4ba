"""NPS screens: the public survey page (signed single-use link, no login), the NPS report per period,
segment and CSM, and closing a detractor's follow-up with the response note and action plan."""
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.accounts.services import ServiceError
from portal.cs.models import midnight_of, local_today
from portal.cs.nps_models import NpsResponse
from portal.cs.services import nps
from portal.cs.views import CS_ROLES, bp
from portal.extensions import db


@bp.route("/nps/r/<token>", methods=["GET", "POST"])
def nps_survey(token):
    """Public, no login: the client picks 0–10 and may leave a comment; the link answers once."""
    account, used = nps.token_state(token)
    if account is None:
        return render_template("cs/nps/survey.html", invalid=True), 400
    if used:
        return render_template("cs/nps/survey.html", done=True, account=account)
    errors = {}
    if request.method == "POST":
        try:
            nps.answer(token, request.form.get("score"), request.form.get("comment", ""))
            db.session.commit()
            return render_template("cs/nps/survey.html", done=True, account=account)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/nps/survey.html", account=account, errors=errors,
                           comment=request.form.get("comment", "")), (422 if errors else 200)


def _month_bounds(text: str | None) -> tuple[str, datetime, datetime]:
    today = local_today()
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first.strftime("%Y-%m"), midnight_of(first), midnight_of(nxt)


@bp.route("/nps")
@roles_required(*CS_ROLES)
def nps_report():
    period = request.args.get("periodo") or ""
    if period == "tudo":
        data = nps.report(current_user)
        month = ""
    else:
        month, start, end = _month_bounds(period)
        data = nps.report(current_user, start, end)
    return render_template("cs/nps/report.html", d=data, month=month)


@bp.route("/nps/respostas/<int:response_id>", methods=["GET", "POST"])
@roles_required(*CS_ROLES)
def nps_response(response_id):
    response = get_scoped_or_404(current_user, NpsResponse, response_id)
    errors = {}
    if request.method == "POST":
        if not response.is_detractor or response.closed_at is not None:
            abort(409)
        try:
            nps.close_detractor(response, request.form.get("response_note"), request.form.get("action_plan"))
            db.session.commit()
            flash("Detrator respondido; tarefa concluída.", "success")
            return redirect(url_for("cs.nps_report"))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/nps/response.html", r=response, errors=errors,
                           form=request.form), (422 if errors else 200)
