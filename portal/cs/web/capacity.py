"""CSM capacity page (leaders): each CSM's load against capacity and how many CSMs the book needs."""
from flask import render_template
from flask_login import current_user

from portal.accounts.decorators import roles_required
from portal.cs.services import capacity
from portal.cs.views import LEADERS, bp


@bp.route("/capacidade")
@roles_required(*LEADERS)
def capacity_page():
    return render_template("cs/capacity.html", d=capacity.overview(current_user),
                           per_csm=capacity.ACCOUNTS_PER_CSM, mrr_per_csm=capacity.MRR_PER_CSM_CENTS)
