"""Customer success screens (/sucesso). CSMs see their portfolio, CS leaders their team's (scope.py decides);
a record outside scope is 404. Every change goes through the services; bad input is answered next to the
fields (422). The routes live in portal/cs/web/ by theme; this module owns the blueprint and the home."""
from flask import Blueprint, render_template
from flask_login import current_user

from portal.accounts.decorators import roles_required

bp = Blueprint("cs", __name__, url_prefix="/sucesso", static_folder="static", static_url_path="/static")
CS_ROLES = ("csm", "cs_leader")
LEADERS = ("cs_leader",)  # admin always passes roles_required


@bp.app_template_filter("grade_class")
def grade_class(grade: str | None) -> str:
    return {"green": "pill-ok", "yellow": "pill-warn", "red": "pill-bad"}.get(grade or "", "")


@bp.app_template_filter("signed")
def signed(value) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    text = f"{value:+.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{int(value):+d}"
    return text.replace(".", ",").replace("-", "−")


@bp.context_processor
def _cs_context():
    from portal.cs.models import GRADES, PHASE_COLORS, PHASES, SEGMENTS
    is_leader = getattr(current_user, "role", None) in ("cs_leader", "admin")
    from portal.dbtypes import utcnow
    return {"PHASES": PHASES, "PHASE_COLORS": PHASE_COLORS, "SEGMENTS": SEGMENTS, "GRADES": GRADES,
            "cs_is_leader": is_leader, "now_utc": utcnow}


@bp.route("/")
@roles_required(*CS_ROLES)
def home():
    from portal.cs import queries
    data = queries.dashboard(current_user)
    pending = queries.work_list(current_user, limit=20)
    return render_template("cs/home.html", d=data, work=pending)




# `portal cs …`: operations for deploys and support (the blueprint's CLI group).
@bp.cli.command("seed-alerts", help="Create the default customer-success alert rules that are missing.")
def seed_alerts_command():
    import click

    from portal.cs.services.alerts import ensure_default_rules
    from portal.extensions import db
    created = ensure_default_rules()
    from portal.cs.services.nps_survey import ensure_survey_rule
    ensure_survey_rule()  # the quarterly NPS survey rule
    from portal.cs.services.at_risk import ensure_weekly_rule
    if ensure_weekly_rule() is None:
        click.echo("Relatório semanal de contas em risco: nenhum líder de CS ativo para receber.")
    from portal.cs.services.playbooks import ensure_parallel_rule
    ensure_parallel_rule()  # the migration playbooks' parallel-period reminder
    db.session.commit()
    click.echo(f"{len(created)} alerta(s) criado(s): {', '.join(created) or 'nenhum — já existiam'}")


@bp.cli.command("health", help="Recompute today's health score of every account (what the 03:00 job does).")
def health_command():
    import click

    from portal.cs.jobs import nightly_health
    click.echo(nightly_health())


from portal.cs.web import accounts, capacity, churn, imports, nps, settings, work  # noqa: E402,F401  (register their routes)
from portal.cs.web import playbooks  # noqa: E402,F401  (product-migration playbooks)
