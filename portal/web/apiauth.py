"""Authentication, scopes and per-client rate limits of the /api/v1 endpoints that API clients call.

`@api_client_required("leads:write")` on a view: the client is found by its bearer token (or, with
`webhook_secret=True`, by the secret path segment the view's URL carries), must be active and hold the
scope, and is then counted against its own rate limit — keyed by client id, shared by every endpoint, so an
integration posting hundreds of leads a minute is limited by its own budget, not by an IP's. The client is
`g.api_client`. Answers follow the API's JSON error shape: 401 (no/bad token), 403 naming the missing scope,
404 (unknown webhook secret), 400 (a token in the query string: URLs end up in logs).
"""
import logging
import re
from functools import wraps

from flask import current_app, g, jsonify, request

from portal.accounts import apiclients
from portal.extensions import db, limiter

log = logging.getLogger(__name__)

REALM = 'Bearer realm="portal"'
DEFAULT_RATE_LIMIT = "600 per minute"
WEBHOOK_PATH = "/api/v1/webhooks/rdstation/"


class ApiAuthError(Exception):
    TITLES = {400: "Requisição inválida", 401: "Não autorizado", 403: "Escopo insuficiente",
              404: "Não encontrado"}

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def response(self):
        db.session.rollback()
        response = jsonify({"error": self.TITLES[self.status], "message": self.message, **self.extra})
        response.status_code = self.status
        if self.status == 401:
            response.headers["WWW-Authenticate"] = REALM
        elif self.status == 403:  # RFC 6750 §3.1
            response.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope", scope="{self.extra["scope"]}"'
        return response


def bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _client_by_token():
    if "token" in request.args:
        # Refused, not read: a token in a URL is already in proxy and server logs, and accepting it would
        # keep integrations doing so. The client is not looked up either (nothing to learn from trying).
        log.warning("API request with a token in the query string refused: %s %s", request.method, request.path)
        raise ApiAuthError(400, "Token na URL não é aceito (URLs ficam gravadas em logs). Envie-o no cabeçalho "
                                "Authorization: Bearer <token>; no webhook do RD Station use o endereço secreto "
                                f"{request.host_url.rstrip('/')}{WEBHOOK_PATH}<segredo>, mostrado em Config. "
                                "pré-vendas → Clientes de API. Revogue este token e crie outro: ele pode ter vazado.")
    token = bearer_token()
    if token is None:
        raise ApiAuthError(401, "Token de API ausente: envie-o no cabeçalho Authorization: Bearer <token>.")
    client = apiclients.lookup(token)
    if client is None:
        raise ApiAuthError(401, "Token de API inválido.")
    if not client.active:
        raise ApiAuthError(401, "Token de API revogado. Peça um novo ao administrador.")
    return client


def _client_by_webhook_secret(secret: str):
    client = apiclients.lookup_webhook(secret)
    if client is None or not client.active:
        raise ApiAuthError(404, "Endereço de webhook desconhecido ou substituído. Copie o endereço atual em "
                                "Config. pré-vendas → Clientes de API.")
    return client


def client_rate_limit() -> str:
    client = g.get("api_client")
    return ((client.rate_limit if client is not None else None)
            or current_app.config.get("API_CLIENT_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def _client_key() -> str:
    return f"api-client:{g.api_client.id}"


def api_client_required(scope: str, *, webhook_secret: bool = False):
    """Authenticate the API client, check `scope`, then count the request against the client's own limit.

    With `webhook_secret`, the view's `secret` URL argument identifies the client (and is not passed on)."""
    def decorator(view):
        # Inside the check: the limit's key is the client, known only once authenticated.
        limited = limiter.shared_limit(client_rate_limit, scope="api-client", key_func=_client_key)(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                client = (_client_by_webhook_secret(kwargs.pop("secret")) if webhook_secret
                          else _client_by_token())
                if not client.has_scope(scope):
                    raise ApiAuthError(403, f"Este token não tem o escopo {scope}, exigido aqui. Crie um cliente de "
                                            "API com esse escopo em Config. pré-vendas → Clientes de API.",
                                       scope=scope)
            except ApiAuthError as exc:
                return exc.response()
            apiclients.touch(client)
            g.api_client = client
            return limited(*args, **kwargs)
        return wrapper
    return decorator


# --- secrets out of logs ------------------------------------------------------------------------------------

# Whatever the segment holds (a current secret, an old one, a token pasted by mistake): only its prefix is kept.
_SECRET_IN_PATH = re.compile(r"(/webhooks/rdstation/)([^/?#\s\"']{0,%d})[^/?#\s\"']*" % apiclients.WEBHOOK_PREFIX_CHARS)
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&#\s\"']*")


def redact(text: str) -> str:
    """The text with webhook secrets cut to their prefix and query-string tokens removed."""
    return _TOKEN_IN_QUERY.sub(r"\1[removido]", _SECRET_IN_PATH.sub(r"\1\2…", text))


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message names a webhook secret or a query token (access logs, Flask's
    "Exception on /path")."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactSecrets()
# The loggers that write request paths: werkzeug's and gunicorn's access logs, Flask's app logger.
_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def install_log_redaction(app) -> None:
    for logger in (*map(logging.getLogger, _LOGGERS), app.logger):
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
