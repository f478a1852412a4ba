"""Staff: a development's units with where each stands (not started / draft / submitted / reopened)."""
from flask import render_template, request
from flask_login import current_user

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.personalize import queries
from portal.personalize.models import SELECTION_STATUSES
from portal.personalize.views import STAFF, bp
from portal.realestate.models import Development


def development_or_404(development_id) -> Development:
    return get_scoped_or_404(current_user, Development, development_id)


def _int(value):
    return normalize.row_id(value)


@bp.route("/empreendimentos/<int:development_id>")
@roles_required(*STAFF)
def development(development_id):
    d = development_or_404(development_id)
    status = request.args.get("situacao") if request.args.get("situacao") in SELECTION_STATUSES else None
    tower_id, q = _int(request.args.get("torre")), (request.args.get("q") or "").strip()[:80]
    pager = queries.unit_rows(d, status, tower_id, q, _int(request.args.get("page")) or 1)
    counts = queries.status_counts([d.id])[d.id]
    filters = {k: v for k, v in {"situacao": status, "torre": tower_id, "q": q}.items() if v}
    return render_template("personalize/development.html", d=d, pager=pager, counts=counts, filters=filters,
                           statuses=SELECTION_STATUSES, tab="units")
