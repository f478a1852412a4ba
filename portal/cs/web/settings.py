"""The CS leader's settings: segmentation (with a preview of who moves), phase durations and cadences,
health weights and grade limits, products and key features, and the default alerts."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.cs import segmentation
from portal.cs.models import PHASES, SEGMENTS, KeyFeature, Product
from portal.cs.services import accounts as account_services
from portal.cs.services import alerts
from portal.cs.settings import MEASURES, get_settings, save_section
from portal.cs.views import LEADERS, bp
from portal.extensions import db

CADENCE_KEYS = [*PHASES, "visit_days", "rts_days"]


@bp.route("/configuracoes")
@roles_required(*LEADERS)
def settings_index():
    return render_template("cs/settings/index.html", settings=get_settings())


# ---- segmentation --------------------------------------------------------------------------------------

def _segmentation_values(rules: dict) -> dict:
    """Rules → the form's field values (money shown in reais)."""
    values = {"mode": rules["mode"], "at_least": rules.get("at_least", 2)}
    for c in rules["criteria"]:
        values[f"{c['field']}_enabled"] = c.get("enabled")
        values[f"{c['field']}_op"] = c.get("op")
        value = c.get("value") or 0
        if segmentation.FIELDS[c["field"]][1] == "money":
            value = f"{value / 100:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        values[f"{c['field']}_value"] = value
    return values


@bp.route("/configuracoes/segmentacao", methods=["GET", "POST"])
@roles_required(*LEADERS)
def settings_segmentation():
    current = get_settings().segmentation
    values, errors, moves, seen, status = _segmentation_values(current), {}, None, 0, 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            rules = segmentation.clean_rules(values)
        except ServiceError as exc:
            errors, status = exc.errors, 422
        else:
            if request.form.get("action") == "apply":
                moved = segmentation.apply_rules(rules, current_user)
                db.session.commit()
                flash(f"Regras salvas; {len(moved)} conta(s) mudaram de segmento.", "success")
                return redirect(url_for(".settings_segmentation"))
            moves, seen = segmentation.preview(rules)
    return render_template("cs/settings/segmentation.html", values=values, errors=errors, moves=moves, seen=seen,
                           fields=segmentation.FIELDS, ops=segmentation.OPS, modes=segmentation.MODES,
                           current=current, describe=segmentation.describe), status


# ---- journey: phase durations and cadences ------------------------------------------------------------------

def _clean_days(raw, label, errors, key, allow_empty=True):
    text = (raw or "").strip()
    if not text:
        if not allow_empty:
            errors[key] = f"Informe {label}."
        return None
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        errors[key] = "Informe dias entre 1 e 3650 (ou deixe em branco)."
        return None
    return int(text)


def clean_journey(form) -> dict:
    errors, durations, cadence = {}, {}, {}
    for phase in PHASES:
        durations[phase] = {seg: _clean_days(form.get(f"duration-{phase}-{seg}"), "a duração", errors,
                                             f"duration-{phase}-{seg}") for seg in SEGMENTS}
    for seg in SEGMENTS:
        cadence[seg] = {key: _clean_days(form.get(f"cadence-{seg}-{key}"), "a cadência", errors,
                                         f"cadence-{seg}-{key}") for key in CADENCE_KEYS}
    if errors:
        raise ServiceError(errors)
    return {"durations": durations, "cadence": cadence}


@bp.route("/configuracoes/jornada", methods=["GET", "POST"])
@roles_required(*LEADERS)
def settings_journey():
    settings = get_settings()
    errors, values, status = {}, None, 200
    if request.method == "POST":
        values = request.form
        try:
            journey_values = clean_journey(request.form)
        except ServiceError as exc:
            errors, status = exc.errors, 422
        else:
            save_section("journey", journey_values, current_user)
            _refresh_all_cadences()
            db.session.commit()
            flash("Durações e cadências salvas; os próximos follow-ups foram recalculados.", "success")
            return redirect(url_for(".settings_journey"))
    return render_template("cs/settings/journey.html", settings=settings, errors=errors, values=values,
                           cadence_keys=CADENCE_KEYS), status


def _refresh_all_cadences():
    """New cadences move every account's next dates (and their due alerts) at once."""
    from sqlalchemy import select

    from portal.cs.models import Account
    from portal.cs.services.journey import refresh_cadence, reschedule
    settings = get_settings()
    for account in db.session.execute(select(Account)).scalars():
        moved = refresh_cadence(account, settings)
        if moved:
            reschedule(account, moved)


# ---- health weights ----------------------------------------------------------------------------------------

def clean_health(form, current: dict) -> dict:
    errors, weights = {}, {}
    for key in MEASURES:
        raw = (form.get(f"weight-{key}") or "").strip()
        if not raw.isdigit() or int(raw) > 100:
            errors[f"weight-{key}"] = "Peso de 0 a 100."
        else:
            weights[key] = int(raw)
    if not errors and sum(weights.values()) == 0:
        errors["weight-usage"] = "Dê peso a pelo menos uma medida."
    numbers = {}
    for key, low, high in (("green_at", 1, 100), ("yellow_at", 1, 100), ("flag_cap", 0, 100),
                           ("sponsor_days", 1, 3650), ("on_demand_days", 1, 3650)):
        raw = (form.get(key) or "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[key] = f"Informe um número de {low} a {high}."
        else:
            numbers[key] = int(raw)
    if "green_at" in numbers and "yellow_at" in numbers and numbers["yellow_at"] >= numbers["green_at"]:
        errors["yellow_at"] = "O amarelo precisa começar abaixo do verde."
    if errors:
        raise ServiceError(errors)
    return {**current, "weights": weights, **numbers}


@bp.route("/configuracoes/saude", methods=["GET", "POST"])
@roles_required(*LEADERS)
def settings_health():
    settings = get_settings()
    errors, values, status = {}, None, 200
    if request.method == "POST":
        values = request.form
        try:
            health_values = clean_health(request.form, settings.health)
        except ServiceError as exc:
            errors, status = exc.errors, 422
        else:
            save_section("health", health_values, current_user)
            db.session.commit()
            flash("Pesos salvos. As notas mudam no próximo recálculo (toda noite, ou “Recalcular” na conta).",
                  "success")
            return redirect(url_for(".settings_health"))
    return render_template("cs/settings/health.html", settings=settings, errors=errors, values=values,
                           measures=MEASURES), status


# ---- products and key features -------------------------------------------------------------------------------

@bp.route("/configuracoes/produtos", methods=["GET", "POST"])
@roles_required(*LEADERS)
def settings_products():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            account_services.save_product({"name": request.form.get("name")}, user=current_user)
        except ServiceError as exc:
            db.session.rollback()
            errors, status = exc.errors, 422
        else:
            db.session.commit()
            flash("Produto cadastrado.", "success")
            return redirect(url_for(".settings_products"))
    return render_template("cs/settings/products.html", products=account_services.products(), errors=errors,
                           feature_errors={}, form_values=request.form), status


@bp.route("/configuracoes/produtos/<int:product_id>/funcionalidades", methods=["POST"])
@roles_required(*LEADERS)
def key_feature_new(product_id):
    product = db.session.get(Product, product_id) or abort(404)
    try:
        account_services.add_key_feature(product, request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("cs/settings/products.html", products=account_services.products(), errors={},
                               feature_errors={product_id: exc.errors}, form_values=request.form), 422
    db.session.commit()
    flash("Funcionalidade-chave cadastrada.", "success")
    return redirect(url_for(".settings_products", _anchor=f"produto-{product.id}"))


@bp.route("/configuracoes/funcionalidades/<int:feature_id>/excluir", methods=["POST"])
@roles_required(*LEADERS)
def key_feature_delete(feature_id):
    feature = db.session.get(KeyFeature, feature_id) or abort(404)
    product_id = feature.product_id
    account_services.delete_key_feature(feature, current_user)
    db.session.commit()
    flash("Funcionalidade-chave excluída.", "success")
    return redirect(url_for(".settings_products", _anchor=f"produto-{product_id}"))


# ---- alerts ---------------------------------------------------------------------------------------------------

@bp.route("/configuracoes/alertas")
@roles_required(*LEADERS)
def settings_alerts():
    if alerts.ensure_default_rules():
        db.session.commit()
    return render_template("cs/settings/alerts.html", alerts=alerts.alerts(), errors={}, failed=None, posted={})


@bp.route("/configuracoes/alertas/<key>", methods=["POST"])
@roles_required(*LEADERS)
def alert_tune(key):
    if key not in alerts.SPECS:
        abort(404)
    try:
        alerts.tune(key, request.form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return render_template("cs/settings/alerts.html", alerts=alerts.alerts(), errors=exc.errors, failed=key,
                               posted=request.form), 422
    db.session.commit()
    flash(f"Alerta “{alerts.SPECS[key].name.removeprefix('CS · ')}” salvo.", "success")
    return redirect(url_for(".settings_alerts", _anchor=f"alerta-{key}"))

