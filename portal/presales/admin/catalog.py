"""Channels, media, loss reasons and custom fields (one set of views keyed by the URL segment), and
the duplicate-blocking settings."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales import admin_forms as forms
from portal.presales.models import CUSTOM_FIELD_KINDS
from portal.presales.services import settings as svc
from portal.presales.services.config import get_settings
from portal.presales.admin import KINDS, SEGMENTS, VIEWERS, _delta, _is_admin, _refused, bp


# Channels, media, loss reasons, custom fields
def _kind_form(kind, obj=None, prefix="", fresh=False):
    spec = KINDS[kind]
    if fresh or request.method == "GET":
        form = spec.form(formdata=None, obj=obj, prefix=prefix)
        if kind == "campos" and obj is not None:
            form.choices.data = "\n".join(obj.choices or [])
    else:
        form = spec.form(prefix=prefix)
    return form


def _items(kind):
    spec = KINDS[kind]
    return db.session.execute(select(spec.model).order_by(*spec.order)).scalars().all()


def _list(kind, new_form=None, status=200):
    can_edit = _is_admin()
    if can_edit and new_form is None:
        new_form = _kind_form(kind, prefix="new", fresh=True)
    template = "presales/admin/_list.html" if request.htmx else "presales/admin/list.html"
    return render_template(template, kind=kind, spec=KINDS[kind], items=_items(kind), new_form=new_form,
                           can_edit=can_edit, field_kinds=CUSTOM_FIELD_KINDS), status


def _row(kind, obj, edit_form=None):
    return render_template("presales/admin/_row.html", kind=kind, spec=KINDS[kind], item=obj, edit_form=edit_form,
                           can_edit=_is_admin(), field_kinds=CUSTOM_FIELD_KINDS)


@bp.route(f"/<{SEGMENTS}:kind>")
@roles_required(*VIEWERS)
def items(kind):
    return _list(kind)


@bp.route(f"/<{SEGMENTS}:kind>/novo", methods=["POST"])
@roles_required("admin")
def item_new(kind):
    form = _kind_form(kind, prefix="new")
    if form.validate_on_submit():
        try:
            obj = KINDS[kind].save(form.data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            if request.htmx:
                return _list(kind)
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    return _list(kind, form, 422)


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def item_edit(kind, item_id):
    obj = db.get_or_404(KINDS[kind].model, item_id)
    form = _kind_form(kind, obj, prefix=f"item-{obj.id}")
    if form.validate_on_submit():
        try:
            KINDS[kind].save(form.data, obj)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            if request.htmx:
                return _row(kind, obj)
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    status = 422 if form.is_submitted() else 200
    if request.htmx:
        return _row(kind, db.session.get(KINDS[kind].model, item_id), form), status
    return render_template("presales/admin/item_form.html", kind=kind, spec=KINDS[kind], item=obj, form=form), status


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/linha")
@roles_required(*VIEWERS)
def item_row(kind, item_id):
    obj = db.get_or_404(KINDS[kind].model, item_id)
    if not request.htmx:
        return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    return _row(kind, obj)


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/excluir", methods=["POST"])
@roles_required("admin")
def item_delete(kind, item_id):
    spec = KINDS[kind]
    obj = db.get_or_404(spec.model, item_id)
    try:
        outcome = spec.delete(obj)
    except ServiceError as exc:
        db.session.rollback()
        message = next(iter(exc.errors.values()))
        if request.htmx:
            form = _kind_form(kind, obj, prefix=f"item-{obj.id}", fresh=True)
            form.form_errors.append(message)
            return _row(kind, obj, form), 409
        flash(message, "error")
        return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    db.session.commit()
    if request.htmx:
        return "" if outcome == "deleted" else _row(kind, obj)
    flash(spec.deleted if outcome == "deleted" else spec.deactivated, "success")
    return redirect(url_for(".items", kind=kind))


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/mover", methods=["POST"])
@roles_required("admin")
def item_move(kind, item_id):
    if not KINDS[kind].movable:
        abort(404)
    obj = db.get_or_404(KINDS[kind].model, item_id)
    svc.move_custom_field(obj, _delta())
    db.session.commit()
    if request.htmx:
        return _list(kind)
    return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))





# Duplicate blocking
@bp.route("/bloqueio", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def dedup_settings():
    if request.method == "POST" and not _is_admin():
        abort(403)
    settings = get_settings()
    form = forms.SettingsForm() if request.method == "POST" else forms.SettingsForm(formdata=None, data={
        "dedup_same_development_only": "1" if settings.dedup_same_development_only else "0",
        "dedup_closed_days": str(settings.dedup_closed_days)})
    if form.validate_on_submit():
        try:
            svc.save_settings(form.data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("Regras de bloqueio salvas.", "success")
            return redirect(url_for(".dedup_settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("presales/admin/dedup.html", form=form, can_edit=_is_admin()), status
