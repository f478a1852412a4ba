import hashlib
from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from portal.accounts.decorators import staff_required
from portal.extensions import db, limiter

bp = Blueprint("web", __name__)

ROLE_HOME = {
    "manager": "presales.home",
    "sdr": "presales.home",
    "broker": "presales.home",
    "csm": "cs.home",
    "cs_leader": "cs.home",
    "personalization": "personalize.home",
    "customer": "personalize.portal",
}


@bp.route("/")
@login_required
def index():
    endpoint = ROLE_HOME.get(current_user.role)
    return redirect(url_for(endpoint)) if endpoint else redirect(url_for("web.home"))


@bp.route("/inicio")
@staff_required
def home():
    from portal.accounts.models import Team, User
    from portal.realestate.models import Development, Unit

    counts = {
        "users": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))),
        "teams": db.session.scalar(select(func.count(Team.id))),
        "developments": db.session.scalar(select(func.count(Development.id))),
        "units": db.session.scalar(select(func.count(Unit.id))),
    }
    return render_template("web/home.html", counts=counts)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    from portal import jobs

    checks, failing = {}, []
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the probe
        db.session.rollback()
        checks["database"] = f"erro: {exc.__class__.__name__}"
        failing.append("database")
    try:
        jobs.get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"erro: {exc.__class__.__name__}"
        failing.append("redis")
    status = "ok" if not failing else "failing: " + ", ".join(failing)
    return jsonify({"status": status, "checks": checks}), (503 if failing else 200)


@bp.route("/manifest.webmanifest")
def manifest():
    return current_app.response_class(
        render_template("web/manifest.json"), mimetype="application/manifest+json")


def static_version(folder: str) -> str:
    """A short hash of every file under the static folder: a deploy that changes any asset changes it."""
    root, digest = Path(folder), hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def serve_static_from(app, folder: str | None = None) -> str:
    """Point the app at its static folder and hash it; at start-up (a deploy restarts the process)."""
    if folder:
        app.static_folder = folder
    app.config["STATIC_VERSION"] = static_version(app.static_folder)
    return app.config["STATIC_VERSION"]


bp.record_once(lambda state: serve_static_from(state.app, state.app.config.get("STATIC_DIR")))


@bp.app_url_defaults
def _versioned_static_urls(endpoint, values):
    # Every asset URL names the build: the service worker serves assets cache-first, so a new build must
    # ask for new URLs (an unversioned one is never cached by it).
    if endpoint == "static" and "v" not in values:
        values["v"] = current_app.config["STATIC_VERSION"]


@bp.route("/sw.js")
def service_worker():
    # Served from the root so its scope covers the whole app; the build version names its cache, so a deploy
    # makes the browser install the new worker, which drops the old cache on activate.
    source = Path(current_app.static_folder, "sw.js").read_text(encoding="utf-8")
    response = current_app.response_class(source.replace("__STATIC_VERSION__", current_app.config["STATIC_VERSION"]),
                                          mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
def offline():
    # Rendered without the context processors: they read current_user, and loading it (from a remember-me
    # cookie, say) writes the session, so this background fetch would answer a Set-Cookie that can overwrite
    # the cookie of a login happening meanwhile.
    html = current_app.jinja_env.get_template("web/offline.html").render()
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/verify")
def verify():
    """The short public address printed on signed contracts."""
    return redirect(url_for("personalize.verify"), 301)
