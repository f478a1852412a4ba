from flask import Blueprint, render_template

from portal.accounts.decorators import roles_required

bp = Blueprint("reports", __name__, url_prefix="/relatorios")


@bp.route("/")
@roles_required("manager", "cs_leader", "personalization")
def index():
    return render_template("reports/index.html", reports=[])
