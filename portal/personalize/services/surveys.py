"""Satisfaction survey after signature (1–5 and a comment), answered without login through a signed link.

The link is made when the seeded rule on "contract.signed" renders `envelope.survey_link`: one survey per
envelope and buyer, so the e-mail and the SMS carry the same link and it answers once (a conditional
UPDATE on `answered_at IS NULL`, not check-then-write). The same signed, expiring links as the CS NPS
(portal.signed_links).
"""
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import signed_links
from portal.accounts.scope import scoped
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.surveys import SatisfactionSurvey
from portal.surveys import answer_once, link_state as shared_link_state, score_summary

SALT = "personalize-survey-link"  # not the old salt: links that carried the survey id stop working
LATEST_COMMENTS = 10

SURVEY_RULES = {
    "contract.signed.survey": {
        "name": "Pesquisa de satisfação após a assinatura do contrato", "active": True, "trigger": "event",
        "subject_type": "envelope", "event_type": "contract.signed", "quiet_hours": True,
        "actions": [
            {"type": "message", "channel": "email", "to": "contact",
             "subject": "Como foi a sua experiência na personalização?",
             "body": "Olá, {{ contato.nome }}! O contrato de personalização da unidade "
                     "{{ envelope.selection.unit.number }} ({{ envelope.selection.unit.development.name }}) está "
                     "assinado. Conte para a gente, em 1 minuto, como foi a sua experiência (nota de 1 a 5):\n\n"
                     "{{ envelope.survey_link }}\n\nO link vale para uma resposta. Obrigado!"},
            {"type": "message", "channel": "sms", "to": "contact",
             "body": "{{ empresa }}: contrato assinado! Como foi a sua experiência? Responda em 1 minuto: "
                     "{{ envelope.survey_link }}"},
        ]},
}


# ---- links -----------------------------------------------------------------------------------------

def survey_token(survey: SatisfactionSurvey) -> str:
    """The survey's random nonce, signed and timestamped: no id or e-mail in the link, and it expires."""
    return signed_links.dumps(SALT, survey.nonce)


def survey_url(survey: SatisfactionSurvey) -> str:
    from portal.web.urls import external_url
    return external_url("personalize.survey", token=survey_token(survey))


def ensure_survey(envelope, user_id: int | None, email: str | None) -> SatisfactionSurvey:
    """The survey of this envelope and buyer, made once (the unique pair settles a race)."""
    def find():
        return db.session.execute(select(SatisfactionSurvey).where(SatisfactionSurvey.envelope_id == envelope.id,
                                                                   SatisfactionSurvey.user_id == user_id)
                                  ).scalar_one_or_none()
    survey = find()
    if survey is not None:
        return survey
    selection = getattr(envelope, "selection", None)
    try:
        with db.session.begin_nested():
            survey = SatisfactionSurvey(envelope_id=envelope.id, development_id=envelope.development_id,
                                        unit_id=getattr(selection, "unit_id", None), user_id=user_id,
                                        email=(email or "").lower() or None, nonce=secrets.token_urlsafe(16),
                                        sent_at=utcnow())
            db.session.add(survey)
    except IntegrityError:
        return find()
    return survey


def link_for_envelope(envelope) -> str:
    """The rule field `envelope.survey_link`: the link for the envelope's contact (a buyer), only once the
    contract is signed (rules on other envelope events must not make surveys)."""
    from portal.automation.subjects import SUBJECTS
    if getattr(envelope, "status", None) != "signed" or getattr(envelope, "id", None) is None:
        return ""
    contact = SUBJECTS["envelope"].contact(envelope)
    if contact.user_id is None:
        return ""
    return survey_url(ensure_survey(envelope, contact.user_id, contact.email))


def link_state(token: str) -> tuple[SatisfactionSurvey | None, bool]:
    """(survey, expired); survey None when the link is forged, altered or unknown."""
    return shared_link_state(SatisfactionSurvey, SALT, token)


# ---- answering -------------------------------------------------------------------------------------

def answer(token: str, score, comment: str = "") -> SatisfactionSurvey:
    survey = answer_once(SatisfactionSurvey, SALT, token, score, comment)
    if survey.envelope is not None:
        from portal.automation.events import publish
        publish("contract.survey_answered", survey.envelope, score=survey.score)
    return survey


# ---- figures ---------------------------------------------------------------------------------------

def survey_summary(user, development_id: int | None = None) -> dict:
    """Sent, answered, average, distribution 1..5 and the latest comments, within the user's developments."""
    from portal.realestate.models import Development, Tower, Unit
    base = scoped(user, SatisfactionSurvey)
    if development_id:
        base = base.where(SatisfactionSurvey.development_id == development_id)
    ids = base.with_only_columns(SatisfactionSurvey.id)
    latest = db.session.execute(
        select(SatisfactionSurvey, Unit, Tower, Development)
        .join(Development, Development.id == SatisfactionSurvey.development_id)
        .outerjoin(Unit, Unit.id == SatisfactionSurvey.unit_id).outerjoin(Tower, Tower.id == Unit.tower_id)
        .where(SatisfactionSurvey.id.in_(ids), SatisfactionSurvey.answered_at.is_not(None),
               SatisfactionSurvey.comment != "")
        .order_by(SatisfactionSurvey.answered_at.desc(), SatisfactionSurvey.id.desc()).limit(LATEST_COMMENTS)).all()
    comments = [{"score": s.score, "comment": s.comment, "answered_at": s.answered_at, "development": d.name,
                 "unit": f"{t.name} · {u.number}" if u is not None and t is not None else ""}
                for s, u, t, d in latest]
    return {**score_summary(SatisfactionSurvey, ids), "latest_comments": comments}
