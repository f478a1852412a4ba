"""JSON API for usage metrics: POST /api/v1/cs/usage with a bearer token (the same API clients as lead
intake, managed in the pre-sales admin).

Body: {"rows": [{"cnpj": "12.345.678/0001-95", "day": "2026-03-15", "feature": "relatorio_economia",
"count": 12}, ...]} (a bare list is accepted too). All rows are checked first: any bad row answers 422 with
`errors` mapping "rows[i].field" → reason and nothing is written. Re-sending the same account/day/feature
replaces its count.
"""
import json

from flask import Blueprint, current_app, jsonify, request

from portal.errors import ServiceError
from portal.cs.services import usage
from portal.extensions import csrf, db, limiter

bp = Blueprint("cs_api", __name__, url_prefix="/api/v1/cs")
csrf.exempt(bp)

MAX_BODY = 2 * 1024 * 1024
TITLES = {400: "Requisição inválida", 401: "Não autorizado", 413: "Corpo grande demais",
          415: "Tipo de conteúdo não suportado", 422: "Dados inválidos"}


def _answer(status: int, message: str, errors: dict | None = None):
    db.session.rollback()
    body = {"error": TITLES.get(status, "Erro"), "message": message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    return response


def _token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _rate_key() -> str:
    from portal.presales.apiclients import hash_token
    token = _token()
    return "cs-api:" + hash_token(token)[:32] if token else "cs-api-ip:" + (request.remote_addr or "-")


def _rate_limit() -> str:
    return current_app.config.get("CS_API_RATE_LIMIT", "120 per minute")


@bp.route("/usage", methods=["POST"])
@limiter.limit(_rate_limit, key_func=_rate_key)
def post_usage():
    from portal.presales.apiclients import authenticate
    token = _token()
    if token is None:
        return _answer(401, "Token de API ausente: envie-o no cabeçalho Authorization: Bearer <token>.")
    client = authenticate(token)
    if client is None:
        return _answer(401, "Token de API inválido ou revogado.")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _answer(413, f"O corpo passa do limite de {MAX_BODY // 1024 // 1024} MB.")
    if not (request.mimetype == "application/json" or (request.mimetype or "").endswith("+json")):
        return _answer(415, "Envie o corpo como JSON (Content-Type: application/json).")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _answer(413, f"O corpo passa do limite de {MAX_BODY // 1024 // 1024} MB.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return _answer(400, f"JSON malformado: {exc}")
    rows = data.get("rows") if isinstance(data, dict) else data
    try:
        result = usage.ingest(rows)
    except ServiceError as exc:
        return _answer(422, "Nenhuma linha foi gravada: corrija as linhas indicadas em errors e reenvie.",
                       exc.errors)
    db.session.commit()
    return jsonify({"status": "ok", **result}), 200
