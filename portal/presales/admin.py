"""Pre-sales configuration screens (admin/manager): channels, media, loss reasons, pipelines and stages,
custom fields, queues, duplicate-blocking settings, API clients."""
from flask import Blueprint, render_template

from portal.accounts.decorators import roles_required

bp = Blueprint("presales_admin", __name__, url_prefix="/pre-vendas/config")


@bp.route("/")
@roles_required("manager")
def index():
    return render_template("presales/admin/index.html")
