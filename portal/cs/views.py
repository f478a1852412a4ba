from flask import Blueprint, render_template

from portal.accounts.decorators import roles_required

bp = Blueprint("cs", __name__, url_prefix="/sucesso")


@bp.route("/")
@roles_required("csm", "cs_leader")
def home():
    return render_template("cs/home.html")
