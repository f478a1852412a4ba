"""NPS surveys sent by rules: the pending survey behind each link, the cadence field rules compare, and the
seeded default rule (quarterly per account, e-mail + SMS with `{{ account.nps_link }}`).

A rule's template context lists every declared account field, so `account.nps_link` is built for every
rule that runs on an account, NPS or not. The link is therefore lazy: the survey row (and its signed nonce)
is made only when a template actually prints the link, once per rule run (the e-mail and the SMS of one
send share the context, hence the link), and an account's still-unanswered survey of the last
REUSE_DAYS is reused instead of a new one (a resend or a reminder carries the same single-use link).
"""
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.cs.models import Account, AlertRule
from portal.cs.nps_models import NpsSurvey
from portal.dbtypes import utcnow
from portal.extensions import db

RULE_KEY = "nps_survey"
RULE_NAME = "CS · Pesquisa NPS trimestral"
CADENCE_DAYS = 90      # default of the rule's condition (leaders tune it in the rule editor)
REUSE_DAYS = 30        # an unanswered survey younger than this is sent again instead of a new one
SUBJECT = "{{ empresa }} quer ouvir você: como está sua experiência?"
EMAIL_BODY = ("Olá, {{ contato.nome }}!\n\n"
              "Queremos saber como está a experiência de {{ account.name }} com a {{ empresa }}. "
              "São duas perguntas rápidas, sem precisar fazer login:\n\n"
              "{{ account.nps_link }}\n\n"
              "O link é pessoal e vale para uma resposta.\n\nObrigado!\n{{ responsavel.nome }}")
SMS_BODY = "{{ empresa }}: de 0 a 10, quanto você nos recomendaria? Responda em 1 minuto: {{ account.nps_link }}"


def _url(token: str) -> str:
    from flask import current_app
    return f"{current_app.config['PORTAL_BASE_URL'].rstrip('/')}/sucesso/nps/r/{token}"


def issue(account: Account, now: datetime | None = None) -> NpsSurvey:
    """The account's pending survey: the unanswered one of the last REUSE_DAYS, else a new one."""
    now = now or utcnow()
    survey = db.session.execute(
        select(NpsSurvey).where(NpsSurvey.account_id == account.id, NpsSurvey.answered_at.is_(None),
                                NpsSurvey.sent_at > now - timedelta(days=REUSE_DAYS))
        .order_by(NpsSurvey.sent_at.desc(), NpsSurvey.id.desc()).limit(1)).scalar_one_or_none()
    if survey is None:
        person = account.main_contact
        email = (person.email or "").lower() if person is not None else ""
        survey = NpsSurvey(account_id=account.id, nonce=secrets.token_urlsafe(12), sent_at=now, email=email or None)
        db.session.add(survey)
        db.session.flush()
    return survey


def survey_link(survey: NpsSurvey) -> str:
    """Signed afresh on every send: a reused survey's link counts its SURVEY_LINK_MAX_AGE_DAYS from now."""
    from portal.cs.services.nps import token_for
    return _url(token_for(survey))


class LazySurveyLink:
    """`account.nps_link` as rules see it: printing it issues the survey (once per object)."""
    __slots__ = ("_account", "_url")

    def __init__(self, account: Account):
        self._account, self._url = account, None

    def __str__(self) -> str:
        if self._url is None:
            self._url = survey_link(issue(self._account)) if self._account.id is not None else ""
        return self._url

    __html__ = __str__

    def __repr__(self) -> str:
        return f"<LazySurveyLink account={self._account.id}>"


def days_since_survey(account: Account, now: datetime | None = None) -> int:
    """Days since the account was last surveyed (sent or answered); never surveyed: since its contract
    started (or it was created), so a new client is first asked after a full cadence."""
    now = now or utcnow()
    last_sent = db.session.execute(select(func.max(NpsSurvey.sent_at))
                                   .where(NpsSurvey.account_id == account.id)).scalar()
    candidates = [d for d in (_aware(last_sent), account.last_nps_at) if d is not None]
    if candidates:
        since = max(candidates)
    else:
        from portal.cs.models import midnight_of
        since = midnight_of(account.contract_start) if account.contract_start else account.created_at
    if since is None:
        return 0
    return max(0, (now - _aware(since)).days)


def _aware(value):
    """Aggregates may come back naive on SQLite; stored times are UTC."""
    from datetime import timezone
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


# ---- the default rule -----------------------------------------------------------------------------------

def rule_data(cadence_days: int = CADENCE_DAYS) -> dict:
    """Monday 10:00 (São Paulo) every week, each account whose last survey is CADENCE_DAYS old or more gets
    the link by e-mail, and by SMS when its contact has a phone (SMS waits out quiet hours)."""
    return {"name": RULE_NAME, "active": True, "subject_type": "account", "trigger": "time",
            "date_field": "weekly_at", "offset_amount": 10, "offset_unit": "hours", "direction": "after",
            "repeat_every_days": 7, "quiet_hours": True, "business_hours": False,
            "conditions": [{"field": "nps_days_since_survey", "op": "ge", "value": str(cadence_days)}],
            "actions": [{"type": "message", "channel": "email", "to": "contact", "subject": SUBJECT,
                         "body": EMAIL_BODY},
                        {"type": "message", "channel": "sms", "to": "contact", "body": SMS_BODY}]}


def survey_rule():
    row = db.session.get(AlertRule, RULE_KEY)
    return row.rule if row is not None else None


def ensure_survey_rule():
    """Seed the default survey rule once (idempotent; a leader's edits and renames are kept)."""
    rule = survey_rule()
    if rule is not None:
        return rule
    from portal.automation.rules import save_rule
    rule = save_rule(rule_data())
    db.session.add(AlertRule(key=RULE_KEY, rule_id=rule.id))
    db.session.flush()
    return rule


def response_rate(account_ids_stmt, start: datetime | None, end: datetime | None) -> dict:
    """Surveys sent in [start, end) to the given accounts and how many were answered."""
    stmt = select(func.count(NpsSurvey.id), func.count(NpsSurvey.answered_at)).where(
        NpsSurvey.account_id.in_(account_ids_stmt))
    if start is not None:
        stmt = stmt.where(NpsSurvey.sent_at >= start)
    if end is not None:
        stmt = stmt.where(NpsSurvey.sent_at < end)
    sent, answered = db.session.execute(stmt).one()
    return {"sent": sent, "answered": answered, "rate": round(answered * 100 / sent) if sent else None}
