"""Sessions that end when they should.

Every session id is "<user id>:<session_version>" (User.get_id), so raising the user's version ends every
session cookie issued before, on every device, at no extra query (the loader loads the user anyway).
Remember-me is our own cookie, not Flask-Login's (that one is the same signed id on every login and cannot
be revoked): a random secret per login whose sha256 is a `remember_tokens` row, deleted to revoke it.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import after_this_request, current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select, update

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import RememberToken, User
from portal.dbtypes import utcnow
from portal.extensions import db

REMEMBER_COOKIE = "remember_token"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_remember_token(user: User) -> str:
    """A new token for one login; returns the secret for the cookie (only its hash is stored)."""
    now = utcnow()
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    if not isinstance(duration, timedelta):
        duration = timedelta(seconds=duration)
    # The user's expired tokens go now, so the table stays the size of the live logins.
    db.session.execute(delete(RememberToken).where(RememberToken.user_id == user.id, RememberToken.expires_at <= now))
    raw = secrets.token_urlsafe(32)
    db.session.add(RememberToken(user_id=user.id, token_hash=_hash(raw), created_at=now, expires_at=now + duration))
    return raw


def token_for_secret(raw: str | None) -> RememberToken | None:
    """The live token this secret names, with its active user loaded in the same query; None otherwise."""
    if not raw:
        return None
    row = db.session.execute(select(RememberToken, User).join(User, User.id == RememberToken.user_id)
                             .where(RememberToken.token_hash == _hash(raw))).first()
    if row is None or row[0].expires_at <= utcnow() or not row[1].active:
        return None
    return row[0]


def revoke_remember_token(raw: str | None) -> bool:
    if not raw:
        return False
    return db.session.execute(delete(RememberToken).where(RememberToken.token_hash == _hash(raw))).rowcount > 0


def end_all_sessions(user: User, action: str | None = None) -> None:
    """Every session cookie and remember-me token of this user issued so far stops working."""
    # In SQL, so two concurrent ends both count and neither reads a stale version.
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(RememberToken).where(RememberToken.user_id == user.id))
    db.session.expire(user, ["session_version"])
    if action:
        audit(action, user)


# ---- Flask-Login wiring ---------------------------------------------------------------------------------------

def user_for_session_id(session_id) -> User | None:
    user_id, _, version = str(session_id).partition(":")
    user_id, version = normalize.row_id(user_id), normalize.row_id(version)
    if user_id is None or version is None:  # also a cookie from before generations: "<id>" alone
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def user_from_remember_cookie(req) -> User | None:
    """Flask-Login's request_loader: called only when the session holds no live user and only when something
    reads current_user, so background fetches without a session do not get a Set-Cookie."""
    raw = req.cookies.get(REMEMBER_COOKIE)
    if not raw:
        return None
    token = token_for_secret(raw)
    if token is None:
        g.remember_cookie = ""  # dead (revoked, expired, from an old deploy): drop it from the browser
        return None
    session["_user_id"], session["_fresh"] = token.user.get_id(), False
    _record_use_after_response(token.id)
    return token.user


def _record_use_after_response(token_id: int) -> None:
    # Written once the request's own transaction is gone: committing that one here could commit a view's
    # half-done work, and a second writer beside it would wait on SQLite's lock.
    engine = db.engine

    def touch():
        try:
            with engine.begin() as conn:
                conn.execute(update(RememberToken.__table__).where(RememberToken.__table__.c.id == token_id)
                             .values(last_used_at=utcnow()))
        except Exception:  # a lost "last used" time must not turn a served page into an error
            current_app.logger.exception("could not record the use of remember-me token %s", token_id)

    @after_this_request
    def later(response):
        app = current_app._get_current_object()

        def run():
            with app.app_context():
                touch()
        response.call_on_close(run)
        return response


def log_in(user: User, remember: bool = False) -> None:
    """Start a session on this device; with `remember`, also a remember-me cookie of its own."""
    login_user(user)  # never remember=True: Flask-Login's cookie is the unrevocable one this module replaces
    if remember:
        g.remember_cookie = issue_remember_token(user)


def log_out(user: User) -> None:
    """Logging out ends the user's sessions on every device (this remember-me token with the rest), as a
    password change does."""
    end_all_sessions(user, "user.logout")
    logout_user()
    g.remember_cookie = ""


def write_remember_cookie(response):
    """after_request: set or clear the cookie decided during the request, with the app's cookie flags."""
    value = g.pop("remember_cookie", None)
    if value is None:
        return response
    config = current_app.config
    if value == "":
        response.delete_cookie(REMEMBER_COOKIE, path="/", secure=config["REMEMBER_COOKIE_SECURE"],
                               httponly=True, samesite=config["REMEMBER_COOKIE_SAMESITE"])
        return response
    duration = config["REMEMBER_COOKIE_DURATION"]
    response.set_cookie(REMEMBER_COOKIE, value, max_age=duration, path="/", secure=config["REMEMBER_COOKIE_SECURE"],
                        httponly=config["REMEMBER_COOKIE_HTTPONLY"], samesite=config["REMEMBER_COOKIE_SAMESITE"])
    return response
