from flask import Blueprint, current_app, jsonify, redirect, render_template, send_from_directory, url_for
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


@bp.route("/sw.js")
def service_worker():
    # Served from the root so its scope covers the whole app.
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
def offline():
    return render_template("web/offline.html")


@bp.route("/verify")
def verify():
    """The short public address printed on signed contracts."""
    return redirect(url_for("personalize.verify"), 301)
