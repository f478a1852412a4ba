"""API clients: systems allowed to post leads, each with its own bearer token.

Only the token's SHA-256 is stored (plus a short prefix so people can tell tokens apart); the plaintext
is shown once, when the client is created. Tokens carry 256 random bits, so a plain SHA-256 (no salt,
no slow hash) is enough: nobody can brute-force the preimage, and the hash can be looked up by index.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import ApiClient

TOKEN_PREFIX = "pk_"
PREFIX_CHARS = 10  # "pk_" + 7 characters, shown in lists
LAST_USED_RESOLUTION = timedelta(seconds=60)  # write last_used_at at most once a minute per client


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_client(name: str, *, actor=None) -> tuple[ApiClient, str]:
    """A new active client and its plaintext token (the only time the plaintext exists)."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError({"name": "Informe o nome do cliente de API."})
    if len(name) > 120:
        raise ServiceError({"name": "Nome longo demais (máximo 120 caracteres)."})
    if db.session.execute(select(ApiClient.id).where(ApiClient.name == name)).first():
        raise ServiceError({"name": "Já existe um cliente de API com este nome."})
    token = new_token()
    client = ApiClient(name=name, token_hash=hash_token(token), token_prefix=token[:PREFIX_CHARS], active=True)
    db.session.add(client)
    db.session.flush()
    audit("api_client.created", client, user=actor, name=name, prefix=client.token_prefix)
    return client, token


def lookup(token: str | None) -> ApiClient | None:
    """The client a token belongs to, active or not (None for an unknown token)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    client = db.session.execute(select(ApiClient).where(ApiClient.token_hash == digest)).scalar_one_or_none()
    # The lookup is by hash, so timing reveals nothing about the token; compare_digest is belt and braces.
    if client is None or not hmac.compare_digest(client.token_hash, digest):
        return None
    return client


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
