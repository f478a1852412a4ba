from flask import Blueprint, render_template
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.realestate.models import Development, Unit

bp = Blueprint("personalize", __name__, url_prefix="/personalizacao")


@bp.route("/")
@roles_required("personalization")
def home():
    developments = db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()
    return render_template("personalize/home.html", developments=developments)


@bp.route("/portal")
@roles_required("customer")
def portal():
    units = db.session.execute(scoped(current_user, Unit).order_by(Unit.id)).scalars().all()
    return render_template("personalize/portal.html", units=units)
