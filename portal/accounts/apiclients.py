"""API clients: systems allowed to call /api/v1, each with its own bearer token, scopes and rate limit.

API clients are shared by every module that serves an endpoint (lead intake, RD Station, CS usage), so they
live here and not in one of those modules: each module registers the scopes its endpoints need
(`register_scope`) and checks them through `portal.web.apiauth`; no module imports another.

Only the token's SHA-256 is stored (plus a short prefix so people can tell tokens apart); the plaintext
is shown once, when the client is created. Tokens carry 256 random bits, so a plain SHA-256 (no salt,
no slow hash) is enough: nobody can brute-force the preimage, and the hash can be looked up by index.
The same holds for the webhook secret: a provider that can only call a URL (RD Station) gets
`/api/v1/webhooks/rdstation/<secret>`; the secret is shown once and can be rotated, which kills the old
URL at once.
"""
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from limits import parse_many
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.audit import audit
from portal.dbtypes import TimestampMixin, UTCDateTime, utcnow
from portal.errors import ServiceError
from portal.extensions import db

TOKEN_PREFIX = "pk_"
PREFIX_CHARS = 10  # "pk_" + 7 characters, shown in lists
WEBHOOK_PREFIX = "whk_"
WEBHOOK_PREFIX_CHARS = 10  # "whk_" + 6 characters: enough to match a (redacted) log line to its client
LAST_USED_RESOLUTION = timedelta(seconds=60)  # write last_used_at at most once a minute per client

# scope → label (pt-BR), filled by the modules that serve endpoints (see register_scope).
SCOPES: dict[str, str] = {}
# The scope whose clients get a secret webhook path.
WEBHOOK_SCOPE = "webhooks:rdstation"


def register_scope(name: str, label: str) -> str:
    SCOPES[name] = label
    return name


class ApiClient(TimestampMixin, db.Model):
    """A system allowed to call the API; only hashes of its token and webhook secret are stored."""
    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated, sorted (OAuth style): what the token may do.
    scopes: Mapped[str] = mapped_column(String(400), default="", server_default="")
    # Flask-Limiter notation ("1200 per minute"); None: the API_CLIENT_RATE_LIMIT setting.
    rate_limit: Mapped[str | None] = mapped_column(String(60))
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    webhook_secret_prefix: Mapped[str | None] = mapped_column(String(16))

    @property
    def scope_list(self) -> list[str]:
        return (self.scopes or "").split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    return WEBHOOK_PREFIX + secrets.token_urlsafe(32)


def _clean_scopes(scopes) -> str:
    chosen = sorted({s.strip() for s in (scopes or ()) if s and s.strip()})
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ServiceError({"scopes": f"Escopo desconhecido: {', '.join(unknown)}. "
                                      f"Escopos possíveis: {', '.join(sorted(SCOPES))}."})
    if not chosen:
        raise ServiceError({"scopes": "Escolha ao menos um escopo."})
    return " ".join(chosen)


def _clean_rate_limit(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    if not value:
        return None
    try:
        parse_many(value)
    except ValueError:
        raise ServiceError({"rate_limit": "Limite inválido: use, por exemplo, “1200 per minute” ou "
                                          "“50 per second”."}) from None
    if len(value) > 60:
        raise ServiceError({"rate_limit": "Limite longo demais (máximo 60 caracteres)."})
    return value


def create_client(name: str, *, scopes, rate_limit: str | None = None,
                  actor=None) -> tuple[ApiClient, str, str | None]:
    """A new active client, its plaintext token and — with the webhook scope — its plaintext webhook secret
    (the only time either plaintext exists)."""
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = "Informe o nome do cliente de API."
    elif len(name) > 120:
        errors["name"] = "Nome longo demais (máximo 120 caracteres)."
    elif db.session.execute(select(ApiClient.id).where(ApiClient.name == name)).first():
        errors["name"] = "Já existe um cliente de API com este nome."
    try:
        scopes = _clean_scopes(scopes)
    except ServiceError as exc:
        errors.update(exc.errors)
    try:
        rate_limit = _clean_rate_limit(rate_limit)
    except ServiceError as exc:
        errors.update(exc.errors)
    if errors:
        raise ServiceError(errors)
    token = new_token()
    client = ApiClient(name=name, token_hash=hash_token(token), token_prefix=token[:PREFIX_CHARS], active=True,
                       scopes=scopes, rate_limit=rate_limit)
    secret = _set_webhook_secret(client) if client.has_scope(WEBHOOK_SCOPE) else None
    db.session.add(client)
    db.session.flush()
    audit("api_client.created", client, user=actor, name=name, prefix=client.token_prefix, scopes=scopes,
          rate_limit=rate_limit, webhook_prefix=client.webhook_secret_prefix)
    return client, token, secret


def _set_webhook_secret(client: ApiClient) -> str:
    secret = new_webhook_secret()
    client.webhook_secret_hash = hash_token(secret)
    client.webhook_secret_prefix = secret[:WEBHOOK_PREFIX_CHARS]
    return secret


def rotate_webhook_secret(client: ApiClient, *, actor=None) -> str:
    """A new webhook secret; the old URL stops working when this transaction commits."""
    if not client.active:
        raise ServiceError({"client": "Cliente de API revogado."})
    if not client.has_scope(WEBHOOK_SCOPE):
        raise ServiceError({"scopes": f"Este cliente não tem o escopo {WEBHOOK_SCOPE}."})
    old = client.webhook_secret_prefix
    secret = _set_webhook_secret(client)
    audit("api_client.webhook_rotated", client, user=actor, name=client.name, old_prefix=old,
          prefix=client.webhook_secret_prefix)
    return secret


def _by_hash(column, secret: str | None, prefix: str) -> ApiClient | None:
    if not secret or not secret.startswith(prefix) or len(secret) > 200:
        return None
    digest = hash_token(secret)
    client = db.session.execute(select(ApiClient).where(column == digest)).scalar_one_or_none()
    # The lookup is by hash, so timing reveals nothing about the secret; compare_digest is belt and braces.
    if client is None or not hmac.compare_digest(getattr(client, column.key) or "", digest):
        return None
    return client


def lookup(token: str | None) -> ApiClient | None:
    """The client a token belongs to, active or not (None for an unknown token)."""
    return _by_hash(ApiClient.token_hash, token, TOKEN_PREFIX)


def lookup_webhook(secret: str | None) -> ApiClient | None:
    """The client a webhook secret path belongs to, active or not (None for an unknown secret)."""
    return _by_hash(ApiClient.webhook_secret_hash, secret, WEBHOOK_PREFIX)


def touch(client: ApiClient) -> None:
    """Record use, at most once a minute, so busy clients do not write their row on every request."""
    now = utcnow()
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
        client.last_used_at = now


def authenticate(token: str | None) -> ApiClient | None:
    """The active client for this token, or None; updates last_used_at (in the caller's transaction)."""
    client = lookup(token)
    if client is None or not client.active:
        return None
    touch(client)
    return client


def revoke(client: ApiClient, *, actor=None) -> ApiClient:
    if client.active:
        client.active = False
        audit("api_client.revoked", client, user=actor, name=client.name, prefix=client.token_prefix)
    return client


def list_clients() -> list[ApiClient]:
    return list(db.session.execute(select(ApiClient).order_by(ApiClient.active.desc(), ApiClient.name)).scalars())


def by_name(name: str) -> ApiClient | None:
    return db.session.execute(select(ApiClient).where(ApiClient.name == name)).scalar_one_or_none()
