"""Staff screens for developments, towers, typologies and units.

Who may do what:
- admin: everything, including creating and deleting developments and assigning their
  personalization staff;
- personalization: edits the developments they are assigned to (data, towers, typologies,
  units, CSV import) — others are 404, as scope.py decides;
- manager: read-only (the list and the development page), to answer brokers and buyers.

Towers, typologies and units share four views keyed by the URL segment (`torres`,
`tipologias`, `unidades`): a row clicked with htmx becomes an inline form (GET), the save
(POST) answers the updated row; without htmx the same views serve a full page and redirect.
"""
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.extensions import db
from portal.realestate import services
from portal.realestate.forms import DevelopmentForm, TowerForm, TypologyForm, UnitForm, area_text
from portal.realestate.imports import UnitImporter
from portal.realestate.models import Development, Tower, Typology, Unit
from portal.web import csv_import
from portal.web.forms import apply_errors

bp = Blueprint("realestate", __name__, url_prefix="/empreendimentos")
VIEWERS = ("manager", "personalization")
EDITORS = ("personalization",)  # admin always passes roles_required


@dataclass(frozen=True)
class Kind:
    model: type
    form: type
    name: str          # template name and form prefix
    save: Callable     # (development, data, obj=None)
    delete: Callable   # (obj)
    saved: str
    deleted: str


KINDS = {
    "torres": Kind(Tower, TowerForm, "tower", services.save_tower, services.delete_tower,
                   "Torre salva.", "Torre excluída."),
    "tipologias": Kind(Typology, TypologyForm, "typology", services.save_typology,
                       services.delete_typology, "Tipologia salva.", "Tipologia excluída."),
    "unidades": Kind(Unit, UnitForm, "unit", services.save_unit, services.delete_unit,
                     "Unidade salva.", "Unidade excluída."),
}
KIND_SEGMENTS = "any(" + ", ".join(KINDS) + ")"


def _can_edit() -> bool:
    return current_user.role in ("admin", *EDITORS)


def _development(development_id) -> Development:
    return get_scoped_or_404(current_user, Development, development_id)


def _item(development, kind, item_id):
    obj = get_scoped_or_404(current_user, KINDS[kind].model, item_id)
    if obj.development_id != development.id:
        abort(404)
    return obj


def _form(kind, development, obj=None, prefix=""):
    """The kind's form, filled from `obj` on GET, from the request on POST."""
    spec = KINDS[kind]
    form = spec.form(obj=obj, prefix=prefix) if request.method == "GET" else spec.form(prefix=prefix)
    if kind == "unidades":
        form.tower_id.choices = [("", "— escolha —")] + [(str(t.id), t.name) for t in development.towers]
        form.typology_id.choices = [("", "— sem tipologia —")] + [(str(t.id), t.name) for t in development.typologies]
        if request.method == "GET" and obj is not None:
            form.tower_id.data, form.typology_id.data = str(obj.tower_id), str(obj.typology_id or "")
    if kind != "torres" and request.method == "GET" and obj is not None:
        form.private_area_m2.data = area_text(obj.private_area_m2)
    return form


def _prefix(kind, obj=None):
    return f"{KINDS[kind].name}-{obj.id}" if obj is not None else f"new-{KINDS[kind].name}"


def _page(development, new_forms=None):
    units = db.session.execute(select(Unit).join(Tower).where(Unit.development_id == development.id)
                               .order_by(Tower.name, Unit.floor, Unit.number)).scalars().all()
    # Add-forms read the request under their own prefix, so only the one that failed shows data.
    forms = {kind: (new_forms or {}).get(kind) or _form(kind, development, prefix=_prefix(kind))
             for kind in KINDS} if _can_edit() else {}
    return render_template("realestate/development.html", d=development, units=units, new_forms=forms,
                           can_edit=_can_edit())


def _row(kind, development, obj, edit_form=None):
    return render_template(f"realestate/_{KINDS[kind].name}_row.html", d=development, item=obj,
                           edit_form=edit_form, can_edit=_can_edit())


@bp.route("/")
@roles_required(*VIEWERS)
def developments():
    rows = db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()
    return render_template("realestate/developments.html", developments=rows)


def _development_form(development=None):
    form = DevelopmentForm(obj=development) if request.method == "GET" else DevelopmentForm()
    if current_user.role == "admin":
        people = db.session.execute(select(User).where(User.role == "personalization", User.active.is_(True))
                                    .order_by(User.name)).scalars()
        form.staff_ids.choices = [(str(u.id), u.name) for u in people]
        if request.method == "GET":
            form.staff_ids.data = [str(u.id) for u in development.staff] if development else []
    else:
        del form.staff_ids  # assignments are the admin's call
    return form


def _save_development(development=None):
    form = _development_form(development)
    if form.validate_on_submit():
        try:
            development = services.save_development(form.data, development)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Empreendimento salvo.", "success")
            return redirect(url_for(".development", development_id=development.id))
    status = 422 if form.is_submitted() else 200
    return render_template("realestate/development_form.html", form=form, d=development), status


@bp.route("/novo", methods=["GET", "POST"])
@roles_required("admin")
def development_new():
    return _save_development()


@bp.route("/<int:development_id>/editar", methods=["GET", "POST"])
@roles_required(*EDITORS)
def development_edit(development_id):
    return _save_development(_development(development_id))


@bp.route("/<int:development_id>/excluir", methods=["POST"])
@roles_required("admin")
def development_delete(development_id):
    development = _development(development_id)
    try:
        services.delete_development(development)
    except ServiceError as exc:
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".development_edit", development_id=development.id))
    db.session.commit()
    flash("Empreendimento excluído.", "success")
    return redirect(url_for(".developments"))


@bp.route("/<int:development_id>")
@roles_required(*VIEWERS)
def development(development_id):
    return _page(_development(development_id))


@bp.route(f"/<int:development_id>/<{KIND_SEGMENTS}:kind>/nova", methods=["POST"])
@roles_required(*EDITORS)
def item_new(development_id, kind):
    development = _development(development_id)
    form = _form(kind, development, prefix=_prefix(kind))
    if form.validate_on_submit():
        try:
            obj = KINDS[kind].save(development, form.data)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".development", development_id=development.id, _anchor=f"{kind}-{obj.id}"))
    return _page(development, {kind: form}), 422


@bp.route(f"/<int:development_id>/<{KIND_SEGMENTS}:kind>/<int:item_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def item_edit(development_id, kind, item_id):
    development = _development(development_id)
    obj = _item(development, kind, item_id)
    form = _form(kind, development, obj, prefix=_prefix(kind, obj))
    if form.validate_on_submit():
        try:
            KINDS[kind].save(development, form.data, obj)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            if request.htmx:
                return _row(kind, development, obj)
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".development", development_id=development.id, _anchor=f"{kind}-{obj.id}"))
    status = 422 if form.is_submitted() else 200
    if request.htmx:
        return _row(kind, development, obj, form), status
    return render_template("realestate/item_form.html", d=development, kind=kind, spec=KINDS[kind], item=obj,
                           form=form), status


@bp.route(f"/<int:development_id>/<{KIND_SEGMENTS}:kind>/<int:item_id>/linha")
@roles_required(*VIEWERS)
def item_row(development_id, kind, item_id):
    development = _development(development_id)
    obj = _item(development, kind, item_id)
    if not request.htmx:
        return redirect(url_for(".development", development_id=development.id, _anchor=f"{kind}-{obj.id}"))
    return _row(kind, development, obj)


@bp.route(f"/<int:development_id>/<{KIND_SEGMENTS}:kind>/<int:item_id>/excluir", methods=["POST"])
@roles_required(*EDITORS)
def item_delete(development_id, kind, item_id):
    development = _development(development_id)
    obj = _item(development, kind, item_id)
    try:
        KINDS[kind].delete(obj)
    except ServiceError as exc:
        message = next(iter(exc.errors.values()))
        if request.htmx:
            form = _form(kind, development, obj, prefix=_prefix(kind, obj))
            form.form_errors.append(message)
            return _row(kind, development, obj, form), 409
        flash(message, "error")
        return redirect(url_for(".development", development_id=development.id, _anchor=f"{kind}-{obj.id}"))
    db.session.commit()
    if request.htmx:
        return ""
    flash(KINDS[kind].deleted, "success")
    return redirect(url_for(".development", development_id=development.id, _anchor=kind))


# Units CSV import
def _units_import(development_id):
    development = _development(development_id)
    links = csv_import.ImportLinks(
        upload=url_for(".units_import", development_id=development.id),
        commit=url_for(".units_import_commit", development_id=development.id),
        template=url_for(".units_import_template", development_id=development.id),
        done=url_for(".development", development_id=development.id, _anchor="unidades"))
    return UnitImporter(development), links


@bp.route("/<int:development_id>/unidades/importar", methods=["GET", "POST"])
@roles_required(*EDITORS)
def units_import(development_id):
    return csv_import.upload_view(*_units_import(development_id))


@bp.route("/<int:development_id>/unidades/importar/confirmar", methods=["POST"])
@roles_required(*EDITORS)
def units_import_commit(development_id):
    return csv_import.commit_view(*_units_import(development_id))


@bp.route("/<int:development_id>/unidades/importar/modelo.csv")
@roles_required(*EDITORS)
def units_import_template(development_id):
    importer, _ = _units_import(development_id)
    return csv_import.template_response(importer)
