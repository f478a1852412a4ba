"""CSM capacity page (leaders): each CSM's load against the capacity they set, how many CSMs the book needs,
a rebalancing proposal (each move appliable, or all at once) and the bulk reassignment of accounts."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.cs.services import capacity
from portal.cs.views import LEADERS, bp
from portal.extensions import db


def _filters(source) -> dict:
    csm = (source.get("csm") or source.get("filter_csm") or "").strip()
    segment = (source.get("segment") or source.get("filter_segment") or "").strip()
    return {"csm": csm if csm == "none" or capacity.is_row_id(csm) else "", "segment": segment}


def _page(status=200, errors=None, settings_errors=None, settings_values=None, selected=(), target=""):
    filters = _filters(request.values)
    cap = capacity.Capacity.current()
    data = capacity.overview(current_user, cap)
    return render_template(
        "cs/capacity.html", d=data, cap=cap, suggestions=capacity.suggestions(current_user, cap, data),
        filters=filters,
        rows=capacity.account_rows(current_user, filters["csm"], filters["segment"]),
        csms=capacity.assignable_csms(current_user), errors=errors or {}, settings_errors=settings_errors or {},
        settings_values=settings_values, selected={str(i) for i in selected}, target=str(target or ""),
    ), status


def _back():
    args = {k: v for k, v in _filters(request.form).items() if v}
    return redirect(url_for("cs.capacity_page", **args, _anchor="reatribuir"))


@bp.route("/capacidade")
@roles_required(*LEADERS)
def capacity_page():
    return _page()


@bp.route("/capacidade/configuracao", methods=["POST"])
@roles_required(*LEADERS)
def capacity_settings():
    try:
        capacity.save_capacity(request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _page(422, settings_errors=exc.errors, settings_values=request.form)
    db.session.commit()
    flash("Capacidade por CSM salva.", "success")
    return redirect(url_for("cs.capacity_page"))


@bp.route("/capacidade/reatribuir", methods=["POST"])
@roles_required(*LEADERS)
def capacity_reassign():
    ids, target = request.form.getlist("account_ids"), request.form.get("csm_id")
    try:
        moved = capacity.reassign(current_user, ids, target)
    except ServiceError as exc:
        db.session.rollback()
        return _page(422, errors=exc.errors, selected=ids, target=target)
    db.session.commit()
    name = moved[0].csm.name if moved else ""
    flash(f"{len(moved)} conta(s) reatribuída(s) para {name}." if moved
          else "Nenhuma conta mudou: já eram desse CSM.", "success")
    return _back()


@bp.route("/capacidade/sugestoes/aplicar", methods=["POST"])
@roles_required(*LEADERS)
def capacity_apply_all():
    try:
        moved = capacity.apply_suggestions(current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _page(422, errors=exc.errors)
    db.session.commit()
    flash(f"Sugestões aplicadas: {len(moved)} conta(s) reatribuída(s).", "success")
    return redirect(url_for("cs.capacity_page"))
