"""Satisfaction surveys, whatever the module asks about (personalization after the contract, pre-sales after the
hand-off): a 1–5 score and an optional comment, answered once through a signed link (portal.signed_links).

Each module keeps its own survey table (its own subject and scope); the rules of answering and the figures are
here, so a score means the same everywhere. The table needs `id`, `score`, `comment` and `answered_at`."""
from sqlalchemy import func, select, update

from portal import signed_links
from portal.dbtypes import utcnow
from portal.errors import ServiceError
from portal.extensions import db

SCORES = {1: "Muito insatisfeito", 2: "Insatisfeito", 3: "Neutro", 4: "Satisfeito", 5: "Muito satisfeito"}
MAX_COMMENT = 2000


def parse_answer(score, comment) -> tuple[int, str]:
    """The score (1–5) and the comment as posted, or ServiceError naming the field."""
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        value = 0
    if value not in SCORES:
        raise ServiceError({"score": "Escolha uma nota de 1 a 5."})
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError({"comment": f"Use no máximo {MAX_COMMENT} caracteres."})
    return value, comment


def record_answer(model, survey, value: int, comment: str, now) -> bool:
    """Store the answer unless one is there already (a conditional UPDATE, so two tabs or the e-mail and the
    SMS link cannot both answer); False when it had been answered."""
    done = db.session.execute(update(model).where(model.id == survey.id, model.answered_at.is_(None))
                              .values(score=value, comment=comment, answered_at=now)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(survey)
    return bool(done)


def link_state(model, salt: str, token: str):
    """(survey, expired) of a survey link signed with `salt`; survey None when forged, altered or unknown."""
    nonce, expired = signed_links.loads(salt, token, signed_links.survey_max_age())
    if nonce is None:
        return None, False
    survey = db.session.execute(select(model).where(model.nonce == nonce)).scalar_one_or_none()
    return survey, expired and survey is not None


def answer_once(model, salt: str, token: str, score, comment):
    """Record the answer the link `token` carries, once; ServiceError (field → message) for a bad link or input."""
    survey, expired = link_state(model, salt, token)
    if survey is None:
        raise ServiceError({"token": "Link de pesquisa inválido."})
    if expired and survey.answered_at is None:
        raise ServiceError({"token": "Este link de pesquisa expirou."})
    value, comment = parse_answer(score, comment)
    if not record_answer(model, survey, value, comment, utcnow()):
        raise ServiceError({"token": "Esta pesquisa já foi respondida. Obrigado!"})
    return survey


def score_summary(model, ids) -> dict:
    """Sent, answered, response rate, average and the 1..5 distribution of the surveys whose ids `ids` selects."""
    sent = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    rows = db.session.execute(select(model.score, func.count(model.id))
                              .where(model.id.in_(ids), model.answered_at.is_not(None))
                              .group_by(model.score)).all()
    distribution = {n: 0 for n in SCORES}
    for score, count in rows:
        distribution[score] = count
    answered = sum(distribution.values())
    average = round(sum(n * c for n, c in distribution.items()) / answered, 2) if answered else None
    return {"sent": sent, "answered": answered, "response_rate": round(answered * 100 / sent) if sent else None,
            "average": average, "distribution": distribution}


class LazyLink:
    """A survey link as rules see it: a rule's context lists every declared field of its record, so the survey is
    issued only when a template really prints the link (once per object)."""
    __slots__ = ("_issue", "_url")

    def __init__(self, issue):
        self._issue, self._url = issue, None

    def __str__(self) -> str:
        if self._url is None:
            self._url = self._issue()
        return self._url

    __html__ = __str__


def survey_page(token: str, link_state, answer, template: str):
    """The public answer page of a survey, for any module: `link_state(token)` → (survey, expired) and
    `answer(token, score, comment)` come from the module's service. Invalid 404, expired 410, answered "Obrigado"."""
    from flask import render_template, request
    row, expired = link_state(token)
    if row is None:
        return render_template(template, invalid=True), 404
    if row.answered_at is not None:
        return render_template(template, done=True, s=row)
    if expired:
        return render_template(template, expired=True), 410
    errors = {}
    if request.method == "POST":
        try:
            answer(token, request.form.get("score"), request.form.get("comment", ""))
            db.session.commit()
            return render_template(template, done=True, s=row)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
            if "token" in errors:  # answered meanwhile (another tab, another message's link)
                return render_template(template, done=True, s=row)
    return render_template(template, s=row, scores=SCORES, errors=errors, chosen=request.form.get("score", ""),
                           comment=request.form.get("comment", "")), (422 if errors else 200)
