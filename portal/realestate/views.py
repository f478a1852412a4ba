from flask import Blueprint, render_template
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.extensions import db
from portal.realestate.models import Development

bp = Blueprint("realestate", __name__, url_prefix="/empreendimentos")
EDITORS = ("manager", "personalization")


@bp.route("/")
@roles_required(*EDITORS)
def developments():
    rows = db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()
    return render_template("realestate/developments.html", developments=rows)


@bp.route("/<int:development_id>")
@roles_required(*EDITORS)
def development(development_id):
    dev = get_scoped_or_404(current_user, Development, development_id)
    return render_template("realestate/development.html", d=dev)
