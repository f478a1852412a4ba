"""Satisfaction with the pre-sales service: one survey per lead, sent by the seeded rule on "lead.handed_off"
(an admin may edit or switch it off in Réguas) through the rule field `lead.survey_link`; answered once, 1–5 and a
comment, without login (portal.surveys: the same scores, answer rule and figures as the personalization survey;
portal.signed_links: the same signed, expiring links)."""
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import signed_links
from portal.accounts.scope import scoped
from portal.automation import default_rules
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, LeadSurvey
from portal import surveys as shared

SALT = "presales-survey-link"
LATEST_COMMENTS = 10

SURVEY_RULES = {
    "presales.handed_off.survey": {
        "name": "Pesquisa de satisfação com a pré-venda após o envio ao time de vendas", "active": True,
        "trigger": "event", "subject_type": "lead", "event_type": "lead.handed_off", "quiet_hours": True,
        "actions": [
            {"type": "message", "channel": "email", "to": "contact",
             "subject": "Como foi o seu atendimento?",
             "body": "Olá, {{ contato.nome }}! Obrigado pelo interesse no {{ lead.development.name }}. "
                     "Conte para a gente, em 1 minuto, como foi o atendimento até aqui (nota de 1 a 5):\n\n"
                     "{{ lead.survey_link }}\n\nO link vale para uma resposta. Obrigado!"},
        ]},
}


def ensure_default_rules() -> list[str]:
    """Seed the survey rule once (idempotent; an admin's edits or deletion stay)."""
    return default_rules.seed(SURVEY_RULES)


# ---- links -----------------------------------------------------------------------------------------

def survey_url(survey: LeadSurvey) -> str:
    from portal.web.urls import external_url
    return external_url("presales_public.survey", token=signed_links.dumps(SALT, survey.nonce))


def ensure_survey(lead: Lead) -> LeadSurvey:
    """The lead's survey, made once (the unique lead settles a race between the e-mail and another channel)."""
    def find():
        return db.session.execute(select(LeadSurvey).where(LeadSurvey.lead_id == lead.id)).scalar_one_or_none()
    survey = find()
    if survey is not None:
        return survey
    try:
        with db.session.begin_nested():
            survey = LeadSurvey(lead_id=lead.id, owner_id=lead.owner_id, email=(lead.email or "").lower() or None,
                                nonce=secrets.token_urlsafe(16), sent_at=utcnow())
            db.session.add(survey)
    except IntegrityError:
        return find()
    return survey


def link_for_lead(lead: Lead) -> str:
    """The rule field `lead.survey_link`: empty for a lead not saved yet."""
    if getattr(lead, "id", None) is None:
        return ""
    return survey_url(ensure_survey(lead))


def link_state(token: str) -> tuple[LeadSurvey | None, bool]:
    """(survey, expired); survey None when the link is forged, altered or unknown."""
    return shared.link_state(LeadSurvey, SALT, token)


def answer(token: str, score, comment: str = "") -> LeadSurvey:
    survey = shared.answer_once(LeadSurvey, SALT, token, score, comment)
    from portal.automation.events import publish
    publish("lead.survey_answered", survey.lead, score=survey.score)
    return survey


# ---- figures ---------------------------------------------------------------------------------------

def summary(user, utc_start: datetime | None = None, utc_end: datetime | None = None,
            development_id: int | None = None, owner_ids=None) -> dict:
    """Surveys sent in [utc_start, utc_end) within the user's scope (and a development, a set of owners): sent,
    answered, rate, average, distribution 1..5 and the latest comments."""
    base = scoped(user, LeadSurvey)
    if utc_start:
        base = base.where(LeadSurvey.sent_at >= utc_start)
    if utc_end:
        base = base.where(LeadSurvey.sent_at < utc_end)
    if development_id:
        base = base.where(LeadSurvey.lead_id.in_(select(Lead.id).where(Lead.development_id == development_id)))
    if owner_ids is not None:
        base = base.where(LeadSurvey.owner_id.in_(owner_ids))
    ids = base.with_only_columns(LeadSurvey.id)
    latest = db.session.execute(
        select(LeadSurvey, Lead).join(Lead, Lead.id == LeadSurvey.lead_id)
        .where(LeadSurvey.id.in_(ids), LeadSurvey.answered_at.is_not(None), LeadSurvey.comment != "")
        .order_by(LeadSurvey.answered_at.desc(), LeadSurvey.id.desc()).limit(LATEST_COMMENTS)).all()
    comments = [{"score": s.score, "comment": s.comment, "answered_at": s.answered_at, "number": lead.number,
                 "name": lead.name} for s, lead in latest]
    return {**shared.score_summary(LeadSurvey, ids), "latest_comments": comments}
