"""JSON API for usage metrics: POST /api/v1/cs/usage with a bearer token holding the cs:usage:write scope (API
clients are shared, managed in the pre-sales admin).

Body: {"rows": [{"cnpj": "12.345.678/0001-95", "day": "2026-03-15", "feature": "relatorio_economia",
"count": 12}, ...]} (a bare list is accepted too). All rows are checked first: any bad row answers 422 with
`errors` mapping "rows[i].field" → reason and nothing is written. Re-sending the same account/day/feature
replaces its count.
"""
import json

from flask import Blueprint, jsonify, request

from portal.accounts import apiclients
from portal.errors import ServiceError
from portal.cs.services import usage
from portal.extensions import csrf, db
from portal.web import apiauth

bp = Blueprint("cs_api", __name__, url_prefix="/api/v1/cs")
csrf.exempt(bp)

MAX_BODY = 2 * 1024 * 1024
TITLES = {400: "Requisição inválida", 413: "Corpo grande demais",
          415: "Tipo de conteúdo não suportado", 422: "Dados inválidos"}


def _answer(status: int, message: str, errors: dict | None = None):
    db.session.rollback()
    body = {"error": TITLES.get(status, "Erro"), "message": message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


USAGE_WRITE = apiclients.register_scope("cs:usage:write", "Enviar métricas de uso (POST /api/v1/cs/usage)")


@bp.route("/usage", methods=["POST"])
@apiauth.api_client_required(USAGE_WRITE)
def post_usage():
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
