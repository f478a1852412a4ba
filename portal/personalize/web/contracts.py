"""Contracts: the development's contract template (staff: edit, preview with a real unit, versions) and
a unit's contract page (buyer: payment choice and the PDF; staff: generate again)."""
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.extensions import db, limiter
from portal.personalize.contracts import PAYMENT_METHODS, Contract, PaymentChoice
from portal.personalize.services import contracts as services
from portal.personalize.services import selections as sel
from portal.personalize.views import PEOPLE, STAFF, bp
from portal.personalize.web.staff import development_or_404
from portal.realestate.models import Unit


@bp.route("/empreendimentos/<int:development_id>/contrato", methods=["GET", "POST"])
@roles_required(*STAFF)
def contract_template(development_id):
    d = development_or_404(development_id)
    current = services.current_template(d.id)
    body = current.body if current else services.DEFAULT_TEMPLATE
    errors, preview_html, status = {}, None, 200
    sample = services.preview_selection(d)
    if request.method == "POST":
        body = request.form.get("body", "")
        try:
            if request.form.get("action") == "preview":
                preview_html = services.preview(d, body)
            else:
                template = services.save_template(d, body, current_user)
                db.session.commit()
                flash(f"Modelo de contrato salvo (versão {template.version}).", "success")
                return redirect(url_for(".contract_template", development_id=d.id))
        except ServiceError as exc:
            db.session.rollback()
            errors, status = exc.errors, 422
    return render_template("personalize/contracts/template.html", d=d, body=body, errors=errors,
                           preview_html=preview_html, versions=services.template_versions(d.id), current=current,
                           sample=sample, tab="contract"), status


@bp.route("/empreendimentos/<int:development_id>/pagamento", methods=["GET", "POST"])
@roles_required(*STAFF)
def payment_options(development_id):
    d = development_or_404(development_id)
    errors, status, posted = {}, 200, None
    if request.method == "POST":
        try:
            services.save_payment_options(d, request.form)
            db.session.commit()
            flash("Formas de pagamento salvas.", "success")
            return redirect(url_for(".payment_options", development_id=d.id))
        except ServiceError as exc:
            db.session.rollback()
            errors, status, posted = exc.errors, 422, request.form
    options = {o.method: o for o in services.payment_options(d.id)}
    return render_template("personalize/contracts/payment_options.html", d=d, options=options, errors=errors,
                           posted=posted, methods=PAYMENT_METHODS, tab="payment"), status


def _unit(unit_id) -> Unit:
    return get_scoped_or_404(current_user, Unit, unit_id)


def _render(unit, errors=None, status=200, posted=None):
    selection = sel.get_selection(unit)
    contract = services.current_contract(selection.id) if selection else None
    choice = db.session.get(PaymentChoice, selection.id) if selection else None
    from portal.personalize.esign import builtin, services as esign
    envelope = (esign.current_envelope(selection.id) or esign.latest_envelope(selection.id)) if selection else None
    staff = current_user.role != "customer"
    return render_template("personalize/contracts/unit.html", unit=unit, s=selection, contract=contract,
                           choice=choice, options=services.payment_options(unit.development_id),
                           errors=errors or {}, posted=posted, staff=staff, money_full=services.money_full,
                           envelope=envelope, me=builtin.signer_for(envelope, current_user),
                           locked_message=builtin.LOCKED_MESSAGE, roles=builtin.ROLES, methods=PAYMENT_METHODS,
                           history=esign.unit_timeline(selection.id) if staff and selection else []), status


@bp.route("/unidades/<int:unit_id>/contrato")
@roles_required(*PEOPLE)
def unit_contract(unit_id):
    return _render(_unit(unit_id))


@bp.route("/unidades/<int:unit_id>/pagamento", methods=["POST"])
@roles_required(*PEOPLE)
def unit_payment(unit_id):
    unit = _unit(unit_id)
    selection = sel.get_selection(unit)
    if selection is None:
        abort(404)
    try:
        from portal.personalize.esign.services import current_envelope
        if current_envelope(selection.id) is not None:  # the contract in signature carries the old choice
            raise ServiceError({"contract": "O contrato já está em assinatura; para mudar a forma de pagamento, "
                                            "a equipe precisa cancelar a assinatura antes."})
        services.choose_payment(selection, request.form.get("method"), request.form.get("installments"),
                                current_user)
        contract = services.current_contract(selection.id)
        if selection.status == "submitted" and services.current_template(selection.development_id):
            if contract is None or contract.payment_method != request.form.get("method") or \
                    contract.installments != selection_installments(selection):
                services.request_contract(selection, current_user)  # the contract carries the payment method
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _render(unit, exc.errors, 422, posted=request.form)
    flash("Forma de pagamento registrada. Nada é cobrado agora.", "success")
    return redirect(url_for(".unit_contract", unit_id=unit.id))


def selection_installments(selection):
    choice = db.session.get(PaymentChoice, selection.id)
    return choice.installments if choice else None


@bp.route("/unidades/<int:unit_id>/contrato/gerar", methods=["POST"])
@roles_required(*STAFF)
def unit_contract_generate(unit_id):
    unit = _unit(unit_id)
    selection = sel.get_selection(unit)
    if selection is None:
        abort(404)
    from portal.personalize.esign.services import current_envelope
    envelope = current_envelope(selection.id)
    if envelope is not None:  # a new contract would silently cancel the signature, or void a signed one
        return _render(unit, {"contract": "Este contrato está em assinatura ou já foi assinado; para gerar de novo, "
                                          "cancele a assinatura antes." if envelope.is_open else
                                          "Este contrato já foi assinado; não é possível gerá-lo de novo."}, 409)
    try:
        services.request_contract(selection, current_user)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _render(unit, exc.errors, 422)
    flash("Contrato na fila de geração.", "success")
    return redirect(url_for(".unit_contract", unit_id=unit.id))


@bp.route("/unidades/<int:unit_id>/contrato/<int:contract_id>.pdf")
@roles_required(*PEOPLE)
def unit_contract_pdf(unit_id, contract_id):
    unit = _unit(unit_id)
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.selection.unit_id != unit.id:
        abort(404)
    path = services.contract_file(contract)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=False,
                     download_name=f"contrato-{unit.development.name}-{unit.number}.pdf".replace(" ", "-"))


MAX_VERIFY_BYTES = 20 * 1024 * 1024


@bp.route("/verificar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], methods=["POST"])
def verify():
    """Public: anyone uploads a contract PDF and learns whether its signature is valid and unchanged."""
    from portal.personalize import signing
    result, error, status = None, None, 200
    if request.method == "POST":
        upload = request.files.get("pdf")
        data = upload.read(MAX_VERIFY_BYTES + 1) if upload else b""
        if not data:
            error, status = "Escolha o arquivo PDF do contrato.", 422
        elif len(data) > MAX_VERIFY_BYTES:
            error, status = "O arquivo passa de 20 MB.", 422
        else:
            result = signing.verify_pdf(data)
    return render_template("personalize/contracts/verify.html", result=result, error=error), status
