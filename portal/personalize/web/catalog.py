"""Staff: the finish catalog of a development — categories, items, options, prices and photos."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.forms import CategoryForm, ItemForm, OptionForm, PhotoForm
from portal.personalize.models import BASIS_HELP, Category, Item, Option, OptionPhoto, OptionPrice, SelectionLine
from portal.personalize.services import catalog as services
from portal.personalize.services import photos as photo_service
from portal.personalize.services.common import money_text, quantity_text
from portal.personalize.views import STAFF, bp
from portal.personalize.web.staff import development_or_404
from portal.web.forms import apply_errors


def _first_error(exc: ServiceError) -> str:
    return next(iter(exc.errors.values()))


# ---- the catalog page and categories ------------------------------------------------------------------

def _catalog_page(d, new_category=None, status=200):
    categories = db.session.execute(select(Category).where(Category.development_id == d.id)
                                    .order_by(Category.position, Category.name)).scalars().all()
    return render_template("personalize/catalog.html", d=d, categories=categories, tab="catalog",
                           new_category=new_category or CategoryForm(formdata=None, prefix="new")), status


@bp.route("/empreendimentos/<int:development_id>/catalogo")
@roles_required(*STAFF)
def catalog(development_id):
    return _catalog_page(development_or_404(development_id))


@bp.route("/empreendimentos/<int:development_id>/catalogo/categorias", methods=["POST"])
@roles_required(*STAFF)
def category_new(development_id):
    d = development_or_404(development_id)
    form = CategoryForm(prefix="new")
    if form.validate_on_submit():
        try:
            services.save_category(d, form.data)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Categoria criada.", "success")
            return redirect(url_for(".catalog", development_id=d.id))
    return _catalog_page(d, form, 422)


def _category(d, category_id) -> Category:
    category = get_scoped_or_404(current_user, Category, category_id)
    if category.development_id != d.id:
        abort(404)
    return category


@bp.route("/empreendimentos/<int:development_id>/catalogo/categorias/<int:category_id>", methods=["POST"])
@roles_required(*STAFF)
def category_edit(development_id, category_id):
    d = development_or_404(development_id)
    category = _category(d, category_id)
    form = CategoryForm(prefix=f"cat-{category.id}")
    try:
        services.save_category(d, form.data, category)
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
    else:
        db.session.commit()
        flash("Categoria salva.", "success")
    return redirect(url_for(".catalog", development_id=d.id, _anchor=f"categoria-{category.id}"))


@bp.route("/empreendimentos/<int:development_id>/catalogo/categorias/<int:category_id>/excluir", methods=["POST"])
@roles_required(*STAFF)
def category_delete(development_id, category_id):
    d = development_or_404(development_id)
    category = _category(d, category_id)
    try:
        services.delete_category(category)
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
    else:
        db.session.commit()
        flash("Categoria excluída.", "success")
    return redirect(url_for(".catalog", development_id=d.id))


# ---- items -------------------------------------------------------------------------------------------

def _item_data(form) -> dict:
    data = dict(form.data)
    data["typologies"] = {k[len("typology_"):]: request.form.get(f"qty_{k[len('typology_'):]}", "")
                          for k in request.form if k.startswith("typology_")}
    return data


def _item_form(d, item=None, category_id=None):
    form = ItemForm(obj=item) if request.method == "GET" else ItemForm()
    form.category_id.choices = [(str(c.id), c.name) for c in db.session.execute(
        select(Category).where(Category.development_id == d.id).order_by(Category.position, Category.name)).scalars()]
    if request.method == "GET":
        form.category_id.data = str(item.category_id if item else category_id or "")
        form.position.data = str(item.position) if item else ""
    return form


def _typology_rows(d, item, errors=None):
    """Each typology with whether the item applies there and its quantity (from the post when refused)."""
    links = {link.typology_id: link for link in (item.typology_links if item else [])}
    posted = request.method == "POST"
    rows = []
    for t in d.typologies:
        if posted:
            checked, qty = f"typology_{t.id}" in request.form, request.form.get(f"qty_{t.id}", "")
        else:
            checked, qty = t.id in links, quantity_text(links[t.id].quantity) if t.id in links else ""
        rows.append({"typology": t, "checked": checked, "qty": qty, "error": (errors or {}).get(f"qty_{t.id}")})
    return rows


def _render_item(d, item, form, errors=None, status=200, option_form=None):
    options = item.options if item else []
    used = set()
    if options:
        used = set(db.session.execute(select(SelectionLine.option_id).where(
            SelectionLine.option_id.in_([o.id for o in options])).distinct()).scalars())
    return render_template("personalize/item.html", d=d, item=item, form=form, tab="catalog",
                           typology_rows=_typology_rows(d, item, errors), errors=errors or {},
                           basis_help=BASIS_HELP, options=options, used=used,
                           option_form=option_form or OptionForm(formdata=None, prefix="opt")), status


@bp.route("/empreendimentos/<int:development_id>/catalogo/itens/novo", methods=["GET", "POST"])
@roles_required(*STAFF)
def item_new(development_id):
    d = development_or_404(development_id)
    form = _item_form(d, category_id=request.args.get("categoria"))
    errors = None
    if form.validate_on_submit():
        try:
            item = services.save_item(d, _item_data(form))
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            errors = exc.errors
        else:
            db.session.commit()
            flash("Item criado. Agora cadastre as opções.", "success")
            return redirect(url_for(".item", item_id=item.id))
    return _render_item(d, None, form, errors, 422 if form.is_submitted() else 200)


def _item(item_id) -> Item:
    return get_scoped_or_404(current_user, Item, item_id)


@bp.route("/catalogo/itens/<int:item_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def item(item_id):
    item = _item(item_id)
    d = development_or_404(item.development_id)
    form = _item_form(d, item)
    errors = None
    if form.validate_on_submit():
        try:
            services.save_item(d, _item_data(form), item)
        except ServiceError as exc:
            db.session.rollback()
            item = _item(item_id)
            apply_errors(form, exc)
            errors = exc.errors
        else:
            db.session.commit()
            flash("Item salvo.", "success")
            return redirect(url_for(".item", item_id=item.id))
    return _render_item(d, item, form, errors, 422 if form.is_submitted() else 200)


@bp.route("/catalogo/itens/<int:item_id>/retirar", methods=["POST"])
@roles_required(*STAFF)
def item_retire(item_id):
    item = _item(item_id)
    services.retire_item(item, request.form.get("acao") != "restaurar")
    db.session.commit()
    flash("Item retirado: não aparece mais para novas escolhas." if item.retired_at else "Item de volta ao catálogo.",
          "success")
    return redirect(url_for(".item", item_id=item.id))


@bp.route("/catalogo/itens/<int:item_id>/excluir", methods=["POST"])
@roles_required(*STAFF)
def item_delete(item_id):
    item = _item(item_id)
    development_id = item.development_id
    try:
        services.delete_item(item)
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
        return redirect(url_for(".item", item_id=item_id))
    db.session.commit()
    flash("Item excluído.", "success")
    return redirect(url_for(".catalog", development_id=development_id))


# ---- options -----------------------------------------------------------------------------------------

@bp.route("/catalogo/itens/<int:item_id>/opcoes", methods=["POST"])
@roles_required(*STAFF)
def option_new(item_id):
    item = _item(item_id)
    d = development_or_404(item.development_id)
    form = OptionForm(prefix="opt")
    if form.validate_on_submit():
        try:
            option = services.save_option(item, form.data, user=current_user)
        except ServiceError as exc:
            db.session.rollback()
            item = _item(item_id)
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Opção “{option.name}” criada.", "success")
            return redirect(url_for(".item", item_id=item.id, _anchor="opcoes"))
    return _render_item(d, item, _item_form(d, item), status=422, option_form=form)


def _option(option_id) -> Option:
    return get_scoped_or_404(current_user, Option, option_id)


def _render_option(option, form, photo_form=None, status=200, replace=False):
    prices = db.session.execute(select(OptionPrice).where(OptionPrice.option_id == option.id)
                                .order_by(OptionPrice.version.desc())).scalars().all()
    uses = db.session.execute(select(SelectionLine.id).where(SelectionLine.option_id == option.id)).all()
    d = development_or_404(option.development_id)
    return render_template("personalize/option.html", d=d, option=option, item=option.item, form=form,
                           photo_form=photo_form or PhotoForm(formdata=None), prices=prices, uses=len(uses),
                           replace=replace, tab="catalog", max_mb=photo_service.max_bytes() // (1024 * 1024)), status


def _option_form(option=None):
    if request.method == "GET":
        form = OptionForm(obj=option)
        if option is not None:
            form.price.data = money_text(option.price_cents) if option.price_cents else ""
            form.position.data = str(option.position)
        return form
    return OptionForm()


@bp.route("/catalogo/opcoes/<int:option_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def option(option_id):
    option = _option(option_id)
    form = _option_form(option)
    if form.validate_on_submit():
        try:
            services.save_option(option.item, form.data, option, user=current_user)
        except ServiceError as exc:
            db.session.rollback()
            option = _option(option_id)
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Opção salva.", "success")
            return redirect(url_for(".item", item_id=option.item_id, _anchor="opcoes"))
    return _render_option(option, form, status=422 if form.is_submitted() else 200)


@bp.route("/catalogo/opcoes/<int:option_id>/substituir", methods=["GET", "POST"])
@roles_required(*STAFF)
def option_replace(option_id):
    """A new product takes this option's place; this one retires (and stays on selections that have it)."""
    option = _option(option_id)
    form = OptionForm(formdata=None) if request.method == "GET" else OptionForm()
    if form.validate_on_submit():
        try:
            new = services.replace_option(option, form.data, user=current_user)
        except ServiceError as exc:
            db.session.rollback()
            option = _option(option_id)
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(f"“{option.name}” foi substituída por “{new.name}”.", "success")
            return redirect(url_for(".item", item_id=option.item_id, _anchor="opcoes"))
    return _render_option(option, form, status=422 if form.is_submitted() else 200, replace=True)


@bp.route("/catalogo/opcoes/<int:option_id>/retirar", methods=["POST"])
@roles_required(*STAFF)
def option_retire(option_id):
    option = _option(option_id)
    try:
        services.retire_option(option, request.form.get("acao") != "restaurar")
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
    else:
        db.session.commit()
        flash("Opção retirada: continua nas escolhas que já a usam." if option.retired_at
              else "Opção de volta ao catálogo.", "success")
    return redirect(url_for(".item", item_id=option.item_id, _anchor="opcoes"))


@bp.route("/catalogo/opcoes/<int:option_id>/excluir", methods=["POST"])
@roles_required(*STAFF)
def option_delete(option_id):
    option = _option(option_id)
    item_id = option.item_id
    try:
        services.delete_option(option)
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
    else:
        db.session.commit()
        flash("Opção excluída.", "success")
    return redirect(url_for(".item", item_id=item_id, _anchor="opcoes"))


@bp.route("/catalogo/opcoes/<int:option_id>/fotos", methods=["POST"])
@roles_required(*STAFF)
def photo_upload(option_id):
    option = _option(option_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.photo.data
    data = upload.read(photo_service.max_bytes() + 1) if upload else b""
    try:
        photo_service.add_photo(option, data, getattr(upload, "filename", "") or "")
    except ServiceError as exc:
        db.session.rollback()
        option = _option(option_id)
        form.photo.errors = list(exc.errors.values())
        return _render_option(option, _option_form(option), form, status=422)
    db.session.commit()
    flash("Foto enviada. A miniatura fica pronta em instantes.", "success")
    return redirect(url_for(".option", option_id=option.id, _anchor="fotos"))


@bp.route("/catalogo/fotos/<int:photo_id>/excluir", methods=["POST"])
@roles_required(*STAFF)
def photo_delete(photo_id):
    photo = get_scoped_or_404(current_user, OptionPhoto, photo_id)
    option_id = photo.option_id
    photo_service.delete_photo(photo)
    db.session.commit()
    flash("Foto excluída.", "success")
    return redirect(url_for(".option", option_id=option_id, _anchor="fotos"))
