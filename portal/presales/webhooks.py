"""Signed inbound webhooks from the sales CRM."""
from flask import Blueprint, jsonify, request

from portal.extensions import csrf, db, limiter
from portal.presales.services.handoff import InboundRejected, apply_sales_status

bp = Blueprint("presales_webhooks", __name__, url_prefix="/api/v1/webhooks")
csrf.exempt(bp)


@bp.route("/sales-status", methods=["POST"])
@limiter.limit(lambda: "120 per minute")
def sales_status():
    try:
        result = apply_sales_status(request.headers, request.get_data(cache=False))
    except InboundRejected as exc:
        db.session.rollback()
        return jsonify({"error": exc.message}), exc.status
    db.session.commit()
    return jsonify(result), 200
