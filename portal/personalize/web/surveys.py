"""The public satisfaction survey page: signed single-use expiring link, no login, made for a phone."""
from portal.personalize.services import surveys
from portal.personalize.views import bp
from portal.surveys import survey_page


@bp.route("/pesquisa/<token>", methods=["GET", "POST"])
def survey(token):
    return survey_page(token, surveys.link_state, surveys.answer, "personalize/survey.html")
