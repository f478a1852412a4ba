"""Churn screens: record a cancellation / non-renewal / downgrade with its autopsy from the account, record
an MRR expansion, the churn list with logo and revenue churn, GRR and NRR per month and over the trailing
12 months, and the editable reason taxonomy (leaders)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.cs.models import local_today
from portal.cs.nps_models import CHURN_KINDS, Churn, ChurnReason
from portal.cs.services import churn as churn_services
from portal.cs.views import CS_ROLES, LEADERS, bp
from portal.cs.web.common import account_or_404
from portal.extensions import db


@bp.route("/churn")
@roles_required(*CS_ROLES)
def churn_list():
    today = local_today()
    months = churn_services.monthly(current_user, today, months=12)
    start, end = months[0]["month"], churn_services._next_month(months[-1]["month"])
    return render_template("cs/churn/list.html", months=months, records=churn_services.records(current_user),
                           groups=churn_services.breakdown(current_user, start, end),
                           trailing=churn_services.trailing(current_user, today),
                           expansions=churn_services.expansions(current_user, limit=50))


@bp.route("/contas/<int:account_id>/expansao", methods=["GET", "POST"])
@roles_required(*CS_ROLES)
def expansion_new(account_id):
    account = account_or_404(account_id)
    errors = {}
    if request.method == "POST":
        try:
            churn_services.record_expansion(account, request.form.to_dict(), current_user)
            db.session.commit()
            flash("Expansão de MRR registrada.", "success")
            return redirect(url_for("cs.account", account_id=account.id))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/churn/expansion.html", account=account, errors=errors, form=request.form,
                           today=local_today()), (422 if errors else 200)


@bp.route("/contas/<int:account_id>/churn", methods=["GET", "POST"])
@roles_required(*CS_ROLES)
def churn_new(account_id):
    account = account_or_404(account_id)
    errors = {}
    if request.method == "POST":
        try:
            record = churn_services.record_churn(account, request.form.to_dict(), current_user)
            db.session.commit()
            flash("Churn registrado.", "success")
            return redirect(url_for("cs.churn_detail", churn_id=record.id))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/churn/form.html", account=account, errors=errors, form=request.form,
                           kinds=CHURN_KINDS, reasons=churn_services.active_reasons()), (422 if errors else 200)


@bp.route("/churn/<int:churn_id>")
@roles_required(*CS_ROLES)
def churn_detail(churn_id):
    return render_template("cs/churn/detail.html", c=get_scoped_or_404(current_user, Churn, churn_id))


@bp.route("/churn/motivos", methods=["GET", "POST"])
@roles_required(*LEADERS)
def churn_reasons():
    errors = {}
    if request.method == "POST":
        reason = None
        if request.form.get("id"):  # editing: an id that is not a reason is a 404, never a new reason
            raw = request.form["id"].strip()
            reason = db.session.get(ChurnReason, normalize.row_id(raw) or 0)
            if reason is None:
                abort(404)
        try:
            churn_services.save_reason(request.form.to_dict(), reason)
            db.session.commit()
            flash("Motivo salvo.", "success")
            return redirect(url_for("cs.churn_reasons"))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/churn/reasons.html", reasons=churn_services.all_reasons(),
                           errors=errors), (422 if errors else 200)
