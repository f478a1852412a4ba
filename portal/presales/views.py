from flask import Blueprint, render_template

from portal.accounts.decorators import roles_required

bp = Blueprint("presales", __name__, url_prefix="/pre-vendas")


@bp.route("/")
@roles_required("manager", "sdr", "broker")
def home():
    return render_template("presales/home.html")
