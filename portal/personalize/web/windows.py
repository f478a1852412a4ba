"""Staff: personalization windows of a development (dates, which units, which categories)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.forms import WindowForm
from portal.personalize.models import Category, PersonalizationWindow
from portal.personalize.services import windows as services
from portal.personalize.services.common import local_input
from portal.personalize.views import STAFF, bp
from portal.personalize.web.staff import development_or_404
from portal.web.forms import apply_errors


def _form(d, window=None):
    form = WindowForm(formdata=None if request.method == "GET" else request.form, prefix="w")
    form.tower_id.choices = [("", "Todas as torres")] + [(str(t.id), t.name) for t in d.towers]
    form.typology_id.choices = [("", "Todas as tipologias")] + [(str(t.id), t.name) for t in d.typologies]
    form.category_ids.choices = [(str(c.id), c.name) for c in db.session.execute(
        select(Category).where(Category.development_id == d.id).order_by(Category.position, Category.name)).scalars()]
    if request.method == "GET" and window is not None:
        form.name.data = window.name
        form.opens_at.data, form.closes_at.data = local_input(window.opens_at), local_input(window.closes_at)
        form.tower_id.data = str(window.tower_id or "")
        form.typology_id.data = str(window.typology_id or "")
        form.category_ids.data = [str(c.id) for c in window.categories]
    return form


def _page(d, form, editing=None, status=200):
    windows = services.development_windows(d.id)
    return render_template("personalize/windows.html", d=d, windows=windows, form=form, editing=editing,
                           now=utcnow(), tab="windows"), status


def _save(d, window=None):
    form = _form(d, window)
    if form.validate_on_submit():
        try:
            services.save_window(d, form.data, window)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Janela salva. Os compradores veem as novas datas agora; os lembretes se ajustam em seguida.",
                  "success")
            return redirect(url_for(".windows", development_id=d.id))
    return _page(d, form, window, 422 if form.is_submitted() else 200)


@bp.route("/empreendimentos/<int:development_id>/janelas", methods=["GET", "POST"])
@roles_required(*STAFF)
def windows(development_id):
    return _save(development_or_404(development_id))


def _window(d, window_id) -> PersonalizationWindow:
    window = get_scoped_or_404(current_user, PersonalizationWindow, window_id)
    if window.development_id != d.id:
        abort(404)
    return window


@bp.route("/empreendimentos/<int:development_id>/janelas/<int:window_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def window_edit(development_id, window_id):
    d = development_or_404(development_id)
    return _save(d, _window(d, window_id))


@bp.route("/empreendimentos/<int:development_id>/janelas/<int:window_id>/excluir", methods=["POST"])
@roles_required(*STAFF)
def window_delete(development_id, window_id):
    d = development_or_404(development_id)
    services.delete_window(_window(d, window_id))
    db.session.commit()
    flash("Janela excluída.", "success")
    return redirect(url_for(".windows", development_id=d.id))
