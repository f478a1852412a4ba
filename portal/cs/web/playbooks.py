"""Product-migration playbooks (/sucesso/migracoes): the legacy products, a product's migration plan by touch
model (start migrations for a group or selected accounts), each migration's page (steps, entity ids and
parallel period, price maintenance), the board by step, and the leader's legacy flag / successor / price
table of a product. Scope comes from the account: another portfolio's migration is 404."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import criteria
from portal.errors import ServiceError
from portal.cs.models import TOUCH_MODELS, Account, Product, local_today
from portal.cs.playbook_models import DONE, STEP_COLORS, STEP_HINTS, STEPS, Migration, MigrationComponent, ProductComponent
from portal.cs.services import accounts as account_services
from portal.cs.services import playbooks, product_lifecycle
from portal.cs.views import CS_ROLES, LEADERS, bp
from portal.cs.web.common import account_or_404, first_error, safe_next
from portal.extensions import db


def _legacy_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.legacy:
        abort(404)
    return product


def _migration_or_404(migration_id: int) -> Migration:
    migration = db.session.get(Migration, migration_id) or abort(404)
    account_or_404(migration.account_id)  # the account's scope is the migration's
    return migration


@bp.app_template_global("cs_account_migrations")
def cs_account_migrations(account):
    return playbooks.account_migrations(account)


# ---- legacy products and the plan -----------------------------------------------------------------------

@bp.route("/migracoes")
@roles_required(*CS_ROLES)
def playbooks_index():
    today = local_today()
    plans = [playbooks.plan(current_user, p, today) for p in product_lifecycle.legacy_products()]
    return render_template("cs/playbooks/index.html", plans=plans)


def _plan_page(product, errors=None, status=200, selected=()):
    return render_template("cs/playbooks/plan.html", plan=playbooks.plan(current_user, product), errors=errors or {},
                           selected={normalize.row_id(i) for i in selected} - {None}, TOUCH_MODELS=TOUCH_MODELS,
                           steps=STEPS), status


@bp.route("/migracoes/produtos/<int:product_id>")
@roles_required(*CS_ROLES)
def playbook_plan(product_id):
    return _plan_page(_legacy_or_404(product_id))[0]


@bp.route("/migracoes/produtos/<int:product_id>/iniciar", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_start(product_id):
    """Start migrations for the checked accounts, or for a whole touch-model group (the not-started ones)."""
    product = _legacy_or_404(product_id)
    raw = request.form.getlist("account_ids")
    group = request.form.get("group")
    if group:
        rows = next((g.rows for g in playbooks.plan(current_user, product).groups if g.touch == group), None)
        if rows is None:
            abort(404)
        accounts = [r.account for r in rows if r.migration is None]
    else:
        ids = {normalize.row_id(i) for i in raw} - {None}
        if len(ids) != len(raw):
            abort(404)
        accounts = list(db.session.execute(select(Account).where(Account.id.in_(ids), criteria(current_user, Account))
                                           .order_by(Account.name)).scalars()) if ids else []
        if len(accounts) != len(ids):
            abort(404)  # someone else's account
    try:
        created = playbooks.start_migrations(product, accounts, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _plan_page(product, exc.errors, 422, raw)
    db.session.commit()
    skipped = len(accounts) - len(created)
    flash(f"{len(created)} migração(ões) iniciada(s)" + (f"; {skipped} já estavam em andamento." if skipped else "."),
          "success")
    return redirect(url_for(".playbook_plan", product_id=product.id))


@bp.route("/migracoes/contas/<int:account_id>/atendimento", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_touch(account_id):
    """Change the account's touch model from the plan (the same field as the account form)."""
    account = account_or_404(account_id)
    back = safe_next(url_for(".playbooks_index"))
    try:
        account_services.update_account(account, {"touch_model": request.form.get("touch_model") or ""}, current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(first_error(exc), "error")
        return redirect(back)
    db.session.commit()
    flash(f"{account.name}: {account.touch_model_label}.", "success")
    return redirect(back)


# ---- one migration -------------------------------------------------------------------------------------------

def _migration_page(migration, errors=None, form=None, status=200, kind=None):
    kept = [c for c in migration.components if c.kept]
    new = [c for c in migration.components if not c.kept]
    return render_template(
        "cs/playbooks/migration.html", m=migration, account=migration.account, steps=STEPS, hints=STEP_HINTS,
        done_steps={s.step: s for s in migration.steps}, errors=errors or {}, forms={kind: form or {}}, kept=kept,
        new=new, table=product_lifecycle.components(migration.new_product), owners=playbooks.owner_choices(),
        today=local_today(),
        flagged=migration.both_after_end(local_today()), DONE=DONE), status


@bp.route("/migracoes/<int:migration_id>")
@roles_required(*CS_ROLES)
def playbook_migration(migration_id):
    return _migration_page(_migration_or_404(migration_id))


def _board_page(status=200, message=None):
    product_id = request.values.get("produto", type=normalize.row_id)
    template = "cs/playbooks/partials/board.html" if request.htmx else "cs/playbooks/board.html"
    return render_template(template, columns=playbooks.board(current_user, product_id), product_id=product_id,
                           products=product_lifecycle.legacy_products(), message=message, failed=status >= 400,
                           colors=STEP_COLORS, today=local_today(), STEPS=STEPS, DONE=DONE,
                           next_step=playbooks.next_step), status


@bp.route("/migracoes/quadro")
@roles_required(*CS_ROLES)
def playbook_board():
    return _board_page()


@bp.route("/migracoes/<int:migration_id>/etapa", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_step(migration_id):
    """Complete the step in progress: from the migration page (owner, date, notes) or a board move (htmx
    answers the whole board; the drop names the target column, which must be the next step)."""
    migration = _migration_or_404(migration_id)
    data = request.form.to_dict()
    if "phase" in data:  # the board's drag & drop / "Concluir" button
        data["to"] = data.pop("phase")
    try:
        row = playbooks.complete_step(migration, data, current_user)
    except ServiceError as exc:
        db.session.rollback()
        if request.htmx:
            return _board_page(409, f"{migration.account.name}: {first_error(exc)}")
        return _migration_page(_migration_or_404(migration_id), exc.errors, request.form, 422, "step")
    db.session.commit()
    message = f"{migration.account.name}: “{row.label}” concluída; agora {migration.step_label}."
    if request.htmx:
        return _board_page(200, message)
    flash(message, "success")
    return redirect(safe_next(url_for(".playbook_migration", migration_id=migration.id)))


@bp.route("/migracoes/<int:migration_id>/dados", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_details(migration_id):
    migration = _migration_or_404(migration_id)
    try:
        playbooks.save_details(migration, request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _migration_page(_migration_or_404(migration_id), {f"d_{k}": v for k, v in exc.errors.items()},
                               request.form, 422, "details")
    db.session.commit()
    flash("IDs de entidade e período paralelo salvos.", "success")
    return redirect(url_for(".playbook_migration", migration_id=migration.id, _anchor="paralelo"))


@bp.route("/migracoes/<int:migration_id>/precos", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_price(migration_id):
    migration = _migration_or_404(migration_id)
    try:
        playbooks.save_price(migration, request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _migration_page(_migration_or_404(migration_id), {f"price_{k}": v for k, v in exc.errors.items()},
                               request.form, 422, "price")
    db.session.commit()
    flash("Componente registrado.", "success")
    return redirect(url_for(".playbook_migration", migration_id=migration.id, _anchor="precos"))


@bp.route("/migracoes/<int:migration_id>/precos/<int:component_id>/excluir", methods=["POST"])
@roles_required(*CS_ROLES)
def playbook_price_delete(migration_id, component_id):
    migration = _migration_or_404(migration_id)
    row = db.session.get(MigrationComponent, component_id)
    if row is None or row.migration_id != migration.id:
        abort(404)
    playbooks.delete_price(row, current_user)
    db.session.commit()
    flash("Componente retirado.", "success")
    return redirect(url_for(".playbook_migration", migration_id=migration.id, _anchor="precos"))


# ---- the leader's settings: legacy flag, successor and price table ---------------------------------------------

def _lifecycle_page(product, errors=None, form=None, status=200):
    others = [p for p in account_services.products() if p.id != product.id and not p.legacy]
    return render_template("cs/playbooks/product.html", product=product, others=others,
                           table=product_lifecycle.components(product), errors=errors or {}, form=form or {}), status


@bp.route("/configuracoes/produtos/<int:product_id>/ciclo", methods=["GET", "POST"])
@roles_required(*LEADERS)
def settings_product_lifecycle(product_id):
    product = db.session.get(Product, product_id) or abort(404)
    if request.method == "POST":
        try:
            product_lifecycle.save_lifecycle(product, request.form, current_user)
        except ServiceError as exc:
            db.session.rollback()
            return _lifecycle_page(db.session.get(Product, product_id), exc.errors, request.form, 422)
        db.session.commit()
        flash("Produto salvo.", "success")
        return redirect(url_for(".settings_product_lifecycle", product_id=product.id))
    return _lifecycle_page(product)


@bp.route("/configuracoes/produtos/<int:product_id>/componentes", methods=["POST"])
@roles_required(*LEADERS)
def settings_product_component(product_id):
    product = db.session.get(Product, product_id) or abort(404)
    try:
        product_lifecycle.save_component(product, request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _lifecycle_page(db.session.get(Product, product_id), {f"c_{k}": v for k, v in exc.errors.items()},
                               request.form, 422)
    db.session.commit()
    flash("Componente salvo na tabela vigente.", "success")
    return redirect(url_for(".settings_product_lifecycle", product_id=product.id, _anchor="tabela"))


@bp.route("/configuracoes/componentes/<int:component_id>/excluir", methods=["POST"])
@roles_required(*LEADERS)
def settings_product_component_delete(component_id):
    row = db.session.get(ProductComponent, component_id) or abort(404)
    product_id = row.product_id
    product_lifecycle.delete_component(row, current_user)
    db.session.commit()
    flash("Componente excluído da tabela.", "success")
    return redirect(url_for(".settings_product_lifecycle", product_id=product_id, _anchor="tabela"))
