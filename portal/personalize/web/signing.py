"""Signing pages (built-in provider): a signer reviews the contract, asks for a one-time code by e-mail or
SMS, ticks acceptance and signs; staff send the contract for signature, follow each signer, cancel,
re-send the invitation, unlock a locked signer and download the signed PDF (from the unit contract page).

Scope as everywhere: a buyer reaches only their own units, staff only their developments (404 otherwise).
"""
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.extensions import db, limiter
from portal.personalize.esign import builtin
from portal.personalize.esign import services as esign
from portal.personalize.esign.models import Signer
from portal.personalize.services import contracts as contract_services
from portal.personalize.services import selections as sel
from portal.personalize.views import PEOPLE, STAFF, bp
from portal.realestate.models import Unit


def _otp_limit():
    return current_app.config["ESIGN_OTP_RATE_LIMIT"]


def _otp_ip_limit():
    return current_app.config["ESIGN_OTP_IP_RATE_LIMIT"]


def _signer_key():
    """Codes are counted per signer (a person on a unit's contract), so co-buyers signing at one sales
    stand, behind one address, do not use up each other's codes; the per-address ceiling stays looser."""
    if not current_user.is_authenticated:
        return get_remote_address()
    return f"signer:{current_user.id}:{(request.view_args or {}).get('unit_id')}"


def _context(unit_id):
    unit = get_scoped_or_404(current_user, Unit, unit_id)
    selection = sel.get_selection(unit)
    envelope = esign.current_envelope(selection.id) if selection else None
    return unit, selection, envelope


def _page(unit, envelope, errors=None, status=200):
    signer = builtin.signer_for(envelope, current_user)
    contract = envelope.contract if envelope else None
    waiting_buyers = bool(envelope) and any(s.status != "signed" for s in envelope.signers if s.role == "buyer")
    return render_template("personalize/signing/sign.html", unit=unit, envelope=envelope, signer=signer,
                           contract=contract, errors=errors or {}, waiting_buyers=waiting_buyers,
                           channels=builtin.channels_of(signer) if signer else {},
                           staff=current_user.role != "customer", roles=builtin.ROLES,
                           otp_minutes=builtin.OTP_MINUTES), status


def _back(unit):
    return redirect(url_for(".unit_contract", unit_id=unit.id) + "#assinatura")


@bp.route("/unidades/<int:unit_id>/assinar")
@roles_required(*PEOPLE)
def sign(unit_id):
    unit, _, envelope = _context(unit_id)
    if envelope is None:
        abort(404)
    return _page(unit, envelope)


@bp.route("/unidades/<int:unit_id>/assinar/codigo", methods=["POST"])
@roles_required(*PEOPLE)
@limiter.limit(_otp_limit, key_func=_signer_key, methods=["POST"])
@limiter.limit(_otp_ip_limit, methods=["POST"])
def sign_code(unit_id):
    unit, _, envelope = _context(unit_id)
    signer = builtin.signer_for(envelope, current_user)
    if signer is None:
        abort(404)
    try:
        builtin.send_code(signer, request.form.get("channel"), current_user)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _page(unit, envelope, exc.errors, 422)
    where = builtin.channels_of(signer).get(signer.otp_channel, "")
    flash(f"Enviamos um código de 6 dígitos para {where}. Ele vale por {builtin.OTP_MINUTES} minutos.", "success")
    return redirect(url_for(".sign", unit_id=unit.id) + "#codigo")


@bp.route("/unidades/<int:unit_id>/assinar", methods=["POST"])
@roles_required(*PEOPLE)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def sign_confirm(unit_id):
    unit, _, envelope = _context(unit_id)
    signer = builtin.signer_for(envelope, current_user)
    if signer is None:
        abort(404)
    try:
        builtin.confirm(signer, request.form.get("code"), bool(request.form.get("accept")), current_user,
                        ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
        db.session.commit()
    except builtin.AttemptFailed as exc:
        db.session.commit()  # the failed attempt counts (and may lock the signer)
        return _page(unit, envelope, exc.errors, 422)
    except ServiceError as exc:
        db.session.rollback()
        return _page(unit, envelope, exc.errors, 422)
    done = esign.all_signed(envelope)
    flash("Contrato assinado! " + ("O documento final com a página de evidências fica pronto em instantes."
                                   if done else "Avisaremos quando todos tiverem assinado."), "success")
    return _back(unit)


@bp.route("/unidades/<int:unit_id>/contrato-assinado.pdf")
@roles_required(*PEOPLE)
def signed_pdf(unit_id):
    unit, selection, envelope = _context(unit_id)
    path = esign.signed_file(envelope) if envelope is not None and envelope.status == "signed" else None
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"contrato-assinado-{unit.development.name}-{unit.number}.pdf".replace(" ", "-"))


# ---- staff --------------------------------------------------------------------------------------------

def _staff_action(unit_id, action, success):
    unit, selection, envelope = _context(unit_id)
    if selection is None:
        abort(404)
    try:
        action(selection, envelope)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        from portal.personalize.web.contracts import _render
        return _render(unit, exc.errors, 422)
    flash(success, "success")
    return _back(unit)


@bp.route("/unidades/<int:unit_id>/assinatura/enviar", methods=["POST"])
@roles_required(*STAFF)
def signature_send(unit_id):
    def send(selection, envelope):
        contract = contract_services.current_contract(selection.id)
        if contract is None:
            raise ServiceError({"contract": "Gere o contrato antes de enviar para assinatura."})
        esign.send_contract(contract, current_user)
    return _staff_action(unit_id, send, "Contrato enviado para assinatura. Os compradores foram avisados.")


@bp.route("/unidades/<int:unit_id>/assinatura/cancelar", methods=["POST"])
@roles_required(*STAFF)
def signature_cancel(unit_id):
    def cancel(selection, envelope):
        reason = " ".join(str(request.form.get("reason") or "").split())
        if not reason:
            raise ServiceError({"reason": "Informe o motivo do cancelamento."})
        if envelope is None:
            raise ServiceError({"contract": "Não há assinatura em andamento."})
        esign.cancel(envelope, reason, current_user)
    return _staff_action(unit_id, cancel, "Assinatura cancelada.")


@bp.route("/unidades/<int:unit_id>/assinatura/reenviar", methods=["POST"])
@roles_required(*STAFF)
def signature_resend(unit_id):
    def resend(selection, envelope):
        if envelope is None:
            raise ServiceError({"contract": "Não há assinatura em andamento."})
        if envelope.provider == builtin.BuiltinProvider.name:
            builtin.resend_invitation(envelope, current_user)
        else:
            raise ServiceError({"contract": "Este provedor envia os avisos por conta própria."})
    return _staff_action(unit_id, resend, "Aviso reenviado a quem falta assinar.")


@bp.route("/unidades/<int:unit_id>/assinatura/signatarios/<int:signer_id>/desbloquear", methods=["POST"])
@roles_required(*STAFF)
def signature_unlock(unit_id, signer_id):
    def unlock(selection, envelope):
        signer = db.session.get(Signer, signer_id)
        if envelope is None or signer is None or signer.envelope_id != envelope.id:
            abort(404)
        builtin.unlock(signer, current_user)
    return _staff_action(unit_id, unlock, "Signatário desbloqueado: já pode pedir um novo código.")
