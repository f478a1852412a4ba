"""Staff: buyers — list, register one, edit, link units, invite, CSV import and the LGPD-logged export."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize import queries
from portal.personalize.forms import BuyerForm, ProfileFieldForm, UnitPickForm
from portal.personalize.imports import BuyerImporter
from portal.personalize.models import BuyerProfileField, Selection
from portal.personalize.services import buyers as services
from portal.personalize.views import STAFF, bp
from portal.realestate.models import Development, Tower, Unit
from portal.web import csv_export, csv_import
from portal.web.csv_import import fold
from portal.web.filters import cpf_br, phone_br
from portal.web.forms import apply_errors


def _int(value):
    return normalize.row_id(value)


def _developments():
    return db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()


def _buyer(user_id) -> User:
    user = db.session.execute(queries.buyer_query(current_user).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        abort(404)
    return user


def _pick_form(development_id=None):
    form = UnitPickForm(prefix="u") if request.method == "POST" else UnitPickForm(formdata=None, prefix="u")
    form.development_id.choices = [("", "— escolha —")] + [(str(d.id), d.name) for d in _developments()]
    if request.method == "GET" and development_id:
        form.development_id.data = str(development_id)
    return form


def _picked_unit(form) -> Unit:
    """The unit named by (development, tower, number), within the caller's scope."""
    errors = {}
    development = None
    if _int(form.development_id.data):
        development = db.session.execute(scoped(current_user, Development).where(
            Development.id == int(form.development_id.data))).scalar_one_or_none()
    if development is None:
        errors["development_id"] = "Escolha o empreendimento."
    tower, number = (form.tower.data or "").strip(), (form.unit.data or "").strip()
    if not tower:
        errors["tower"] = "Informe a torre."
    if not number:
        errors["unit"] = "Informe a unidade."
    if errors:
        raise ServiceError(errors)
    unit = next((u for u, name in db.session.execute(
        select(Unit, Tower.name).join(Tower, Tower.id == Unit.tower_id).where(Unit.development_id == development.id))
        if fold(name) == fold(tower) and fold(u.number) == fold(number)), None)
    if unit is None:
        raise ServiceError({"unit": f"Unidade {number} não encontrada na {tower} de {development.name}."})
    return unit


@bp.route("/compradores")
@roles_required(*STAFF)
def buyers():
    development_id = _int(request.args.get("empreendimento"))
    q = (request.args.get("q") or "").strip()[:80]
    pager = queries.buyer_page(current_user, development_id, q, _int(request.args.get("page")) or 1)
    ids = db.session.execute(queries.buyer_query(current_user, development_id).with_only_columns(User.id)).scalars()
    pending = len(services.never_invited(list(ids)))
    d = db.session.get(Development, development_id) if development_id else None
    if d is not None and d not in _developments():
        abort(404)
    filters = {k: v for k, v in {"empreendimento": development_id, "q": q}.items() if v}
    return render_template("personalize/buyers.html", pager=pager, filters=filters, pending=pending,
                           developments=_developments(), d=d, tab="buyers",
                           link_requests=services.pending_link_requests(current_user, development_id))


def _profile_values(user=None):
    profile = services.profile_of(user) if user is not None else None
    values = dict((profile.values or {}) if profile else {})
    if request.method == "POST":
        values.update({f.key: request.form.get(f"field_{f.key}", "") for f in services.active_profile_fields()})
    return values


@bp.route("/compradores/novo", methods=["GET", "POST"])
@roles_required(*STAFF)
def buyer_new():
    fixed = None
    if "unidade" in request.args:
        unit_id = _int(request.args["unidade"])
        fixed = get_scoped_or_404(current_user, Unit, unit_id) if unit_id else abort(404)
    form = BuyerForm() if request.method == "POST" else BuyerForm(formdata=None)
    pick = _pick_form(_int(request.args.get("empreendimento")))
    if form.validate_on_submit():
        try:
            unit = fixed or _picked_unit(pick)
            user, created = services.register_buyer(form.data, [unit], actor=current_user)
            requested = not services.visible_to(current_user, user)
            if not requested:  # a pending buyer's data is theirs until they accept
                services.set_profile_values(user, request.form)
                if request.form.get("invite"):
                    services.invite(user)
        except ServiceError as exc:
            db.session.rollback()
            _spread_errors(exc, form, pick)
            return _buyer_form_page(form, pick, fixed, errors=exc.errors, status=422)
        db.session.commit()
        if requested:
            flash(f"{form.email.data.strip()} já tem cadastro no portal por outro empreendimento. Enviamos um pedido "
                  f"de vínculo com a unidade {unit.label}: ela aparece no cadastro quando o comprador aceitar.",
                  "success")
            return redirect(url_for(".buyers"))
        flash(f"Comprador {user.name} cadastrado." if created
              else f"{user.name} já estava cadastrado: a unidade foi vinculada ao cadastro existente.", "success")
        return redirect(url_for(".buyer", user_id=user.id))
    return _buyer_form_page(form, pick, fixed, status=422 if form.is_submitted() else 200)


def _spread_errors(exc: ServiceError, form, pick) -> None:
    """Each message next to its field: buyer fields, unit picker, profile fields (by the template)."""
    for key, message in exc.errors.items():
        target = getattr(form, key, None) if key in form else getattr(pick, key, None) if key in pick else None
        if target is not None:
            target.errors = list(target.errors) + [message]
        elif not key.startswith("field_"):
            form.form_errors.append(message)


def _buyer_form_page(form, pick, fixed, errors=None, status=200):
    return render_template("personalize/buyer_new.html", form=form, pick=pick, fixed=fixed,
                           fields=services.active_profile_fields(), values=_profile_values(), errors=errors or {},
                           tab="buyers"), status


def _buyer_page(user, form=None, pick=None, errors=None, status=200):
    units = db.session.execute(scoped(current_user, Unit).where(Unit.id.in_(
        select(Unit.id).join(Unit.buyers).where(User.id == user.id)))).scalars().all()
    if form is None:
        form = BuyerForm(obj=user, formdata=None)
        form.phone.data, form.cpf.data = (phone_br(user.phone) if user.phone else "",
                                          cpf_br(user.cpf) if user.cpf else "")
    statuses = dict(db.session.execute(select(Selection.unit_id, Selection).where(
        Selection.unit_id.in_([u.id for u in units] or [0]))).all())
    return render_template("personalize/buyer.html", buyer=user, form=form, pick=pick or _pick_form(),
                           units=units, selections=statuses, profile=services.profile_of(user), fields=services.active_profile_fields(),
                           values=_profile_values(user), errors=errors or {}, tab="buyers"), status


@bp.route("/compradores/<int:user_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def buyer(user_id):
    user = _buyer(user_id)
    if request.method == "GET":
        return _buyer_page(user)
    form = BuyerForm()
    if form.validate_on_submit():
        try:
            services.update_buyer(user, form.data)
            services.set_profile_values(user, request.form)
        except ServiceError as exc:
            db.session.rollback()
            user = _buyer(user_id)
            _spread_errors(exc, form, UnitPickForm(formdata=None, prefix="u"))
            return _buyer_page(user, form, errors=exc.errors, status=422)
        db.session.commit()
        flash("Cadastro salvo.", "success")
        return redirect(url_for(".buyer", user_id=user.id))
    return _buyer_page(user, form, status=422)


@bp.route("/compradores/<int:user_id>/convite", methods=["POST"])
@roles_required(*STAFF)
def buyer_invite(user_id):
    user = _buyer(user_id)
    try:
        services.invite(user)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
    else:
        db.session.commit()
        flash(f"Convite enviado para {user.email}.", "success")
    return redirect(url_for(".buyer", user_id=user.id))


@bp.route("/compradores/convites", methods=["POST"])
@roles_required(*STAFF)
def buyers_invite_pending():
    """Invite every buyer in scope (or in one development) who was never invited nor has logged in."""
    development_id = _int(request.form.get("empreendimento"))
    ids = db.session.execute(queries.buyer_query(current_user, development_id).with_only_columns(User.id)).scalars()
    count, queued = services.invite_pending(ids, current_user)
    db.session.commit()
    flash(f"{count} convite(s) sendo enviados em segundo plano." if queued else
          f"{count} convite(s) enviado(s)." if count else "Nenhum convite pendente.", "success")
    return redirect(url_for(".buyers", **({"empreendimento": development_id} if development_id else {})))


@bp.route("/compradores/<int:user_id>/unidades", methods=["POST"])
@roles_required(*STAFF)
def buyer_link(user_id):
    user = _buyer(user_id)
    pick = _pick_form()
    try:
        unit = _picked_unit(pick)
        linked = services.link_unit(user, unit)
    except ServiceError as exc:
        db.session.rollback()
        for key, message in exc.errors.items():
            getattr(pick, key).errors = [message]
        return _buyer_page(_buyer(user_id), pick=pick, status=422)
    db.session.commit()
    flash(f"Unidade {unit.label} vinculada." if linked else "Esta unidade já estava vinculada.", "success")
    return redirect(url_for(".buyer", user_id=user.id))


@bp.route("/vinculos/<token>", methods=["GET", "POST"])
@roles_required("customer")
def link_request(token):
    """The buyer's side of a link request (from the e-mail): logged in as the buyer asked, accept or decline.
    Login, not the link alone, proves who answers: a link can be forwarded, and admins read sent messages."""
    row, expired = services.link_request_for(token, current_app.config["INVITATION_MAX_AGE"])
    if row is None or row.user_id != current_user.id:
        abort(404)
    if expired and row.pending:
        return render_template("personalize/link_request.html", row=row, expired=True), 410
    if request.method == "POST" and row.pending:
        accept = request.form.get("answer") == "accept"
        services.answer_link_request(row, current_user, accept)
        db.session.commit()
        flash(f"Unidade {row.unit.label} vinculada ao seu cadastro." if accept else "Pedido de vínculo recusado.",
              "success")
        return redirect(url_for(".link_request", token=token))
    return render_template("personalize/link_request.html", row=row)


@bp.route("/compradores/<int:user_id>/unidades/<int:unit_id>/remover", methods=["POST"])
@roles_required(*STAFF)
def buyer_unlink(user_id, unit_id):
    user = _buyer(user_id)
    unit = get_scoped_or_404(current_user, Unit, unit_id)
    try:
        services.unlink_unit(user, unit)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
    else:
        db.session.commit()
        flash(f"Unidade {unit.label} desvinculada de {user.name}.", "success")
    # The buyer may now be out of the caller's scope: back to the list then.
    visible = db.session.execute(queries.buyer_query(current_user).where(User.id == user.id)).first()
    return redirect(url_for(".buyer", user_id=user.id) if visible else url_for(".buyers"))


# ---- CSV import and export ----------------------------------------------------------------------------

def _import():
    links = csv_import.ImportLinks(upload=url_for(".buyers_import"), commit=url_for(".buyers_import_commit"),
                                   template=url_for(".buyers_import_template"), done=url_for(".buyers"))
    return BuyerImporter(current_user), links


@bp.route("/compradores/importar", methods=["GET", "POST"])
@roles_required(*STAFF)
def buyers_import():
    return csv_import.upload_view(*_import())


@bp.route("/compradores/importar/confirmar", methods=["POST"])
@roles_required(*STAFF)
def buyers_import_commit():
    return csv_import.commit_view(*_import())


@bp.route("/compradores/importar/modelo.csv")
@roles_required(*STAFF)
def buyers_import_template():
    importer, _ = _import()
    return csv_import.template_response(importer)


@bp.route("/compradores/exportar.csv")
@roles_required(*STAFF)
def buyers_export():
    """Personal data leaving the system: scoped like the screen, and every export is in the audit log."""
    development_id = _int(request.args.get("empreendimento"))
    if development_id and db.session.execute(scoped(current_user, Development).where(
            Development.id == development_id)).first() is None:
        abort(404)
    fields = services.active_profile_fields()
    rows = list(queries.export_rows(current_user, development_id, fields))
    data = csv_export.to_bytes(queries.EXPORT_COLUMNS + [f.label for f in fields], rows)
    audit("buyers.exported", object_type="User", count=len(rows), development_id=development_id,
          purpose="LGPD: exportação de dados pessoais de compradores")
    db.session.commit()
    return csv_export.response(data, f"compradores-{utcnow():%Y%m%d-%H%M}.csv")


# ---- extra profile fields -------------------------------------------------------------------------------

@bp.route("/compradores/campos", methods=["GET", "POST"])
@bp.route("/compradores/campos/<int:field_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def profile_fields(field_id=None):
    row = db.session.get(BuyerProfileField, field_id) if field_id else None
    if field_id and row is None:
        abort(404)
    if request.method == "GET":
        form = ProfileFieldForm(obj=row, formdata=None)
        if row is not None:
            form.choices.data = ", ".join(row.choices or [])
            form.position.data = str(row.position)
    else:
        form = ProfileFieldForm()
    if form.validate_on_submit():
        try:
            services.save_profile_field(form.data, row)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Campo salvo.", "success")
            return redirect(url_for(".profile_fields"))
    rows = db.session.execute(select(BuyerProfileField).order_by(BuyerProfileField.position, BuyerProfileField.id)
                              ).scalars().all()
    return render_template("personalize/profile_fields.html", rows=rows, form=form, editing=row,
                           tab="buyers"), 422 if form.is_submitted() else 200
