"""NPS screens: the public survey page (signed single-use expiring link, no login), the NPS report per period,
segment, CSM and product, closing a detractor's follow-up with the response note and action plan, the
CSM's topic tags on negative answers, the most negative topics with drill-down, and the topic list."""
from datetime import date, datetime, timedelta

from babel.dates import format_date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.cs.models import Account, midnight_of, local_today
from portal.cs.nps_models import NpsResponse, NpsTopic
from portal.cs.services import nps, nps_topics
from portal.cs.services import nps_survey as surveys
from portal.cs.views import CS_ROLES, LEADERS, bp
from portal.extensions import db


@bp.route("/nps/r/<token>", methods=["GET", "POST"])
def nps_survey(token):
    """Public, no login: the client picks 0–10 and may leave a comment; the link answers once and expires."""
    survey, expired = nps.link_state(token)
    account = survey.account if survey is not None else None
    if account is None:
        return render_template("cs/nps/survey.html", invalid=True), 404
    if survey.answered_at is not None:  # single use: a second answer is refused, the first one stands
        return render_template("cs/nps/survey.html", done=True, already=True, account=account), \
            (409 if request.method == "POST" else 200)
    if expired:
        return render_template("cs/nps/survey.html", expired=True), 410
    errors = {}
    if request.method == "POST":
        try:
            nps.answer(token, request.form.get("score"), request.form.get("comment", ""))
            db.session.commit()
            return render_template("cs/nps/survey.html", done=True, account=account)
        except nps.AlreadyAnswered:
            db.session.rollback()
            return render_template("cs/nps/survey.html", done=True, already=True, account=account), 409
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/nps/survey.html", account=account, errors=errors,
                           comment=request.form.get("comment", "")), (422 if errors else 200)


def _month_bounds(text: str | None) -> tuple[str, datetime, datetime]:
    today = local_today()
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first.strftime("%Y-%m"), midnight_of(first), midnight_of(nxt)


def _period() -> tuple[str, datetime | None, datetime | None]:
    """The `periodo` query argument: a month (YYYY-MM, default the current one) or "tudo"."""
    if (request.args.get("periodo") or "") == "tudo":
        return "", None, None
    return _month_bounds(request.args.get("periodo"))


def _month_choices(chosen: str, count: int = 24) -> list[tuple[str, str]]:
    """The last `count` months as ("2026-12", "dezembro de 2026"): a select reads the same in every browser, where
    an <input type=month> shows the browser's own language ("December 2026")."""
    first, out = local_today().replace(day=1), []
    for _ in range(count):
        out.append((first.strftime("%Y-%m"), format_date(first, "MMMM 'de' y", locale="pt_BR")))
        first = (first - timedelta(days=1)).replace(day=1)
    if chosen and chosen not in dict(out):  # an older month typed into the address stays selected
        out.append((chosen, format_date(date.fromisoformat(chosen + "-01"), "MMMM 'de' y", locale="pt_BR")))
    return out


@bp.route("/nps")
@roles_required(*CS_ROLES)
def nps_report():
    month, start, end = _period()
    data = nps.report(current_user, start, end)
    accounts = scoped(current_user, Account, Account.id)
    rule = surveys.survey_rule()
    return render_template("cs/nps/report.html", d=data, month=month, periodo=month or "tudo",
                           topics=nps_topics.most_negative(current_user, start, end),
                           untagged=nps_topics.untagged_count(current_user, start, end),
                           rate=surveys.response_rate(accounts, start, end), rule=rule,
                           month_choices=_month_choices(month))


@bp.route("/nps/topicos/<int:topic_id>")
@roles_required(*CS_ROLES)
def nps_topic(topic_id):
    """Drill-down of "tópicos mais negativos": the tagged detractor and passive answers behind a count."""
    topic = db.get_or_404(NpsTopic, topic_id)
    month, start, end = _period()
    return render_template("cs/nps/topic.html", topic=topic, month=month, periodo=month or "tudo",
                           responses=nps_topics.responses_for(current_user, topic, start, end))


@bp.route("/nps/topicos", methods=["GET", "POST"])
@roles_required(*LEADERS)
def nps_topics_edit():
    errors = {}
    if request.method == "POST":
        topic = db.get_or_404(NpsTopic, normalize.row_id(request.form["id"]) or 0) if (request.form.get("id") or "").isdigit() else None
        try:
            nps_topics.save_topic(request.form, topic, current_user)
            db.session.commit()
            flash("Tópico salvo.", "success")
            return redirect(url_for("cs.nps_topics_edit"))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/nps/topics.html", topics=nps_topics.all_topics(), errors=errors,
                           form=request.form), (422 if errors else 200)


@bp.route("/nps/respostas/<int:response_id>/topicos", methods=["POST"])
@roles_required(*CS_ROLES)
def nps_response_topics(response_id):
    """The CSM tags the answer's topics (htmx swaps the tag box; without JS, back to the answer page)."""
    response = get_scoped_or_404(current_user, NpsResponse, response_id)
    errors = {}
    try:
        nps_topics.set_topics(response, request.form.getlist("topic_id"), current_user)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        errors = exc.errors
    if request.htmx:
        return render_template("cs/nps/_topics.html", r=response, topics=_topic_choices(response), errors=errors,
                               saved=not errors), (422 if errors else 200)
    if errors:
        flash(next(iter(errors.values())), "error")
    else:
        flash("Tópicos salvos.", "success")
    return redirect(url_for("cs.nps_response", response_id=response.id))


def _topic_choices(response: NpsResponse) -> list[NpsTopic]:
    """Active topics plus any retired one already on the answer (so unticking it is possible)."""
    chosen = {t.id for t in response.topics}
    return [t for t in nps_topics.all_topics() if t.active or t.id in chosen]


@bp.route("/nps/respostas/<int:response_id>", methods=["GET", "POST"])
@roles_required(*CS_ROLES)
def nps_response(response_id):
    response = get_scoped_or_404(current_user, NpsResponse, response_id)
    errors = {}
    if request.method == "POST":
        if not response.is_detractor or response.closed_at is not None:
            abort(409)
        try:
            nps.close_detractor(response, request.form.get("response_note"), request.form.get("action_plan"))
            db.session.commit()
            flash("Detrator respondido; tarefa concluída.", "success")
            return redirect(url_for("cs.nps_report"))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("cs/nps/response.html", r=response, errors=errors, form=request.form,
                           topics=_topic_choices(response)), (422 if errors else 200)
