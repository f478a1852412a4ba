"""Personalization blueprint: staff pages (home, units, catalog, windows, buyers) and the buyer's portal.

The routes live in portal/personalize/web/*, one module per screen family; they register on this
blueprint when imported at the bottom of this file.
"""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.realestate.models import Tower, Unit

bp = Blueprint("personalize", __name__, url_prefix="/personalizacao")
STAFF = ("personalization",)  # admin always passes roles_required
PEOPLE = ("customer", "personalization")


@bp.route("/")
@roles_required(*STAFF)
def home():
    from portal.dbtypes import utcnow
    from portal.personalize import queries
    from portal.personalize.models import SELECTION_STATUSES
    return render_template("personalize/home.html", cards=queries.development_cards(current_user), now=utcnow(),
                           statuses=SELECTION_STATUSES)


def my_units() -> list[Unit]:
    return db.session.execute(scoped(current_user, Unit).join(Tower, Tower.id == Unit.tower_id)
                              .order_by(Unit.development_id, Tower.name, Unit.number)).scalars().all()


@bp.route("/portal")
@roles_required("customer")
def portal():
    """The buyer's one page: their (first) unit; a switcher links the others."""
    if current_user.role != "customer":
        return redirect(url_for(".home"))
    units = my_units()
    if not units:
        return render_template("personalize/portal_empty.html")
    from portal.personalize.web.selection import render_unit_page
    return render_unit_page(units[0])


from portal.personalize.web import buyers, catalog, contracts, helpers, questions, selection, staff, surveys, windows  # noqa: E402,F401  (routes)
from portal.personalize.web import appointments  # noqa: E402,F401  (routes: atendimento agendado)
from portal.personalize.web import signing  # noqa: E402,F401  (routes: built-in e-signature)
from portal.personalize.web import dashboard  # noqa: E402,F401  (routes: personalization dashboard)
