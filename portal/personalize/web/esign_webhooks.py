"""Public callbacks from e-signature services: POST /webhooks/assinatura/<provider>.

The provider authenticates the call (shared secret) and applies it through esign.services; anything it
rejects rolls back, so a forged or unknown callback changes nothing.
"""
from flask import Blueprint, current_app, jsonify, request

from portal.errors import ServiceError
from portal.extensions import csrf, db, limiter
from portal.personalize.esign import zapsign  # noqa: F401 - registers the provider
from portal.personalize.esign.base import CallbackRejected, get_provider

bp = Blueprint("esign_webhooks", __name__)
csrf.exempt(bp)


@bp.route("/webhooks/assinatura/<provider>", methods=["POST"])
@limiter.limit(lambda: "120 per minute")
def signature_callback(provider):
    try:
        backend = get_provider(provider)
    except LookupError:
        return jsonify({"error": "Provedor de assinatura desconhecido."}), 404
    try:
        envelope = backend.handle_callback(request)
        db.session.commit()
    except CallbackRejected as exc:
        db.session.rollback()
        return jsonify({"error": exc.reason}), exc.status
    except ServiceError as exc:  # e.g. the signed file could not be fetched: the service retries the webhook
        db.session.rollback()
        current_app.logger.warning("signature callback from %s not applied: %s", provider, exc.errors)
        return jsonify({"error": " ".join(str(v) for v in exc.errors.values())}), 502
    return jsonify({"ok": True, "envelope": envelope.id, "status": envelope.status}), 200
