"""The unit page: the buyer's one-page portal, and the same page for staff acting on the buyer's behalf.

One URL per unit for both (rules link to it too); scope.py decides who may open it (a buyer only
their own units, staff only their developments; anything else is 404). Choosing an option with htmx
answers the item and the running total; without JavaScript the whole form posts to "salvar".
"""
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.models import AuditLog
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.automation.timeline import Entry, timeline
from portal.extensions import db
from portal.personalize.forms import ReopenForm
from portal.personalize.models import OptionPhoto
from portal.personalize.services import photos as photo_service
from portal.personalize.services import selections as sel
from portal.personalize.views import PEOPLE, STAFF, bp, my_units
from portal.realestate.models import Unit

AUDIT_TITLES = {"selection.changed_on_behalf": "Alterado pela equipe em nome do comprador",
                "selection.submitted": "Enviada", "selection.reopened": "Reaberta"}


def _unit(unit_id) -> Unit:
    return get_scoped_or_404(current_user, Unit, unit_id)


def _history(selection) -> list:
    """Events and messages of the selection, plus the audited changes staff made on the buyer's behalf."""
    rows = db.session.execute(select(AuditLog).where(AuditLog.object_type == "Selection",
                                                     AuditLog.object_id == str(selection.id),
                                                     AuditLog.action == "selection.changed_on_behalf")
                              .order_by(AuditLog.at.desc()).limit(100)).scalars()
    extra = [Entry(a.at, "audit", AUDIT_TITLES[a.action], actor=a.user.name if a.user else None,
                   body=f"{(a.details or {}).get('item')}: {(a.details or {}).get('option')}") for a in rows]
    from portal.personalize.esign.services import unit_timeline as envelope_timeline  # signature states
    extra += envelope_timeline(selection.id)
    from portal.personalize.services.questions import unit_timeline  # the unit's question threads, too
    return timeline("selection", selection.id, extra + unit_timeline(selection.unit_id), limit=100)


def _ensure_committed(unit: Unit) -> None:
    """Create the selection row (first visit) and commit before building the page: committing after would
    expire every loaded row and the template would reload them one query at a time."""
    if sel.get_selection(unit) is None:
        sel.ensure_selection(unit)
        db.session.commit()


def render_unit_page(unit: Unit, status: int = 200, posted=None, errors=None, reopen_form=None):
    _ensure_committed(unit)
    page = sel.unit_page(unit, current_user, posted=posted)
    for key, message in (errors or {}).items():
        view = page.view_for(int(key.split("-")[1])) if key.startswith("item-") else None
        if view is not None:
            view.error = message
    general = [m for k, m in (errors or {}).items() if not k.startswith("item-")]
    context = {"page": page, "unit": unit, "general_errors": general}
    if page.staff:
        context["history"] = _history(page.selection)
        context["reopen_form"] = reopen_form or ReopenForm(formdata=None)
    else:
        context["units"] = my_units()
    return render_template("personalize/unit.html", **context), status


@bp.route("/unidades/<int:unit_id>")
@roles_required(*PEOPLE)
def unit(unit_id):
    return render_unit_page(_unit(unit_id))


@bp.route("/unidades/<int:unit_id>/itens/<int:item_id>", methods=["POST"])
@roles_required(*PEOPLE)
def unit_choose(unit_id, item_id):
    """htmx: one radio changed. Answers the item (as the server now sees it) and the total."""
    unit = _unit(unit_id)
    selection = sel.ensure_selection(unit)
    status, error = 200, None
    try:
        sel.choose(selection, item_id, request.form.get(f"item-{item_id}"), current_user)
    except (sel.SelectionLocked, sel.WindowClosed) as exc:
        db.session.rollback()
        status, error = 409, next(iter(exc.errors.values()))
    except ServiceError as exc:
        db.session.rollback()
        if "item" in exc.errors:
            abort(404)
        status, error = 422, next(iter(exc.errors.values()))
    else:
        db.session.commit()
    if not request.htmx:
        if error:
            flash(error, "error")
        return redirect(url_for(".unit", unit_id=unit.id, _anchor=f"item-{item_id}"))
    page = sel.unit_page(unit, current_user, only_item=item_id)
    view = page.view_for(item_id)
    if view is None:
        abort(404)
    view.error = error
    body = render_template("personalize/_item_swap.html", page=page, unit=unit, v=view)
    return body, status


def _posted_choices() -> dict[int, int]:
    out = {}
    for key, value in request.form.items():
        item_id, option_id = normalize.row_id(key.removeprefix("item-")), normalize.row_id(value)
        if key.startswith("item-") and item_id is not None and option_id is not None:
            out[item_id] = option_id
    return out


@bp.route("/unidades/<int:unit_id>/salvar", methods=["POST"])
@roles_required(*PEOPLE)
def unit_save(unit_id):
    """Save draft (every item at once; the no-JavaScript path), then stay or go to the review."""
    unit = _unit(unit_id)
    selection = sel.ensure_selection(unit)
    choices = _posted_choices()
    try:
        changed = sel.save_draft(selection, choices, current_user)
    except (sel.SelectionLocked, sel.WindowClosed) as exc:
        db.session.rollback()
        return render_unit_page(unit, 409, errors=exc.errors)
    except ServiceError as exc:
        db.session.rollback()
        return render_unit_page(unit, 422, posted=choices, errors=exc.errors)
    db.session.commit()
    if request.form.get("next") == "review":
        return redirect(url_for(".unit_review", unit_id=unit.id))
    flash("Rascunho salvo." if changed else "Rascunho salvo. Nenhuma escolha mudou.", "success")
    return redirect(url_for(".unit", unit_id=unit.id))


@bp.route("/unidades/<int:unit_id>/revisar")
@roles_required(*PEOPLE)
def unit_review(unit_id):
    """The confirmation step: the full list with quantities, prices and the total."""
    unit = _unit(unit_id)
    _ensure_committed(unit)
    page = sel.unit_page(unit, current_user)
    if not page.editable:
        flash("Esta personalização não pode ser enviada agora.", "info")
        return redirect(url_for(".unit", unit_id=unit.id))
    return render_template("personalize/review.html", page=page, unit=unit)


@bp.route("/unidades/<int:unit_id>/enviar", methods=["POST"])
@roles_required(*PEOPLE)
def unit_submit(unit_id):
    unit = _unit(unit_id)
    selection = sel.ensure_selection(unit)
    try:
        sel.submit(selection, request.form.get("revision"), current_user)
    except ServiceError as exc:
        db.session.rollback()
        page = sel.unit_page(unit, current_user)
        message = next(iter(exc.errors.values()))
        if not page.editable:
            flash(message, "error")
            return redirect(url_for(".unit", unit_id=unit.id))
        return render_template("personalize/review.html", page=page, unit=unit, error=message), 409
    db.session.commit()
    flash("Personalização enviada! A equipe da construtora já recebeu as suas escolhas." if current_user.role == "customer"
          else "Personalização enviada em nome do comprador.", "success")
    return redirect(url_for(".unit", unit_id=unit.id))


@bp.route("/unidades/<int:unit_id>/reabrir", methods=["POST"])
@roles_required(*STAFF)
def unit_reopen(unit_id):
    unit = _unit(unit_id)
    selection = sel.ensure_selection(unit)
    form = ReopenForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        sel.reopen(selection, current_user, form.reason.data)
    except ServiceError as exc:
        db.session.rollback()
        form.reason.errors = list(exc.errors.values())
        return render_unit_page(unit, 422, reopen_form=form)
    db.session.commit()
    flash("Personalização reaberta: o comprador pode alterar de novo.", "success")
    return redirect(url_for(".unit", unit_id=unit.id))


@bp.route("/fotos/<int:photo_id>/<any(thumb, large, original):size>")
@roles_required(*PEOPLE)
def photo(photo_id, size):
    """Buyers get the worker's re-encoded versions only; the original is for staff."""
    row = get_scoped_or_404(current_user, OptionPhoto, photo_id)
    if size == "original":
        if current_user.role == "customer":
            abort(404)
        path, mimetype = photo_service.original_path(row), row.content_type
    else:
        if row.status != "ready":
            abort(404)
        path, mimetype = photo_service.version_path(row, size), "image/jpeg"
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mimetype, max_age=86400, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=86400"  # never in a shared cache: scoped content
    return response
