"""The public satisfaction survey page: signed single-use expiring link, no login, made for a phone."""
from flask import render_template, request

from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.services import surveys
from portal.personalize.surveys import SCORES
from portal.personalize.views import bp


@bp.route("/pesquisa/<token>", methods=["GET", "POST"])
def survey(token):
    row, expired = surveys.link_state(token)
    if row is None:
        return render_template("personalize/survey.html", invalid=True), 404
    if row.answered_at is not None:
        return render_template("personalize/survey.html", done=True, s=row)
    if expired:
        return render_template("personalize/survey.html", expired=True), 410
    errors = {}
    if request.method == "POST":
        try:
            surveys.answer(token, request.form.get("score"), request.form.get("comment", ""))
            db.session.commit()
            return render_template("personalize/survey.html", done=True, s=row)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
            if "token" in errors:  # answered meanwhile (another tab, the SMS link)
                return render_template("personalize/survey.html", done=True, s=row)
    return render_template("personalize/survey.html", s=row, scores=SCORES, errors=errors,
                           chosen=request.form.get("score", ""), comment=request.form.get("comment", "")), \
        (422 if errors else 200)
