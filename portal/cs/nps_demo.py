"""NPS demo data: the default survey rule, three quarterly survey rounds on the demo accounts (the latest
answer matches each account's demo NPS), comments, topics tagged on most negative answers, and a few
detractors still waiting for the CSM. Idempotent: does nothing once any NPS answer exists."""
import random
from datetime import timedelta

from sqlalchemy import select

from portal.cs.models import Account
from portal.cs.nps_models import NpsResponse
from portal.cs.services import nps, nps_survey, nps_topics
from portal.dbtypes import utcnow
from portal.extensions import db

COMMENTS = {
    "promoter": ["Ferramenta essencial no dia a dia.", "Atendimento excelente da CSM.", ""],
    "passive": ["Bom, mas os relatórios poderiam ser mais rápidos.", "Falta integração com nosso ERP.",
                "O reajuste deste ano pesou."],
    "detractor": ["Suporte demora dias para responder.", "O sistema trava no fechamento do mês.",
                  "Caro para o que usamos; a equipe não foi treinada."],
}
TOPICS = {  # comment → topics the CSM tagged
    "Bom, mas os relatórios poderiam ser mais rápidos.": ["Performance", "Relatórios"],
    "Falta integração com nosso ERP.": ["Integrações"],
    "O reajuste deste ano pesou.": ["Preço"],
    "Suporte demora dias para responder.": ["Suporte"],
    "O sistema trava no fechamento do mês.": ["Bugs", "Performance"],
    "Caro para o que usamos; a equipe não foi treinada.": ["Preço", "Treinamento"],
}


def load_demo_nps() -> None:
    nps_survey.ensure_survey_rule()
    if db.session.execute(select(NpsResponse.id).limit(1)).first():
        return
    rng = random.Random(11)
    topics = {t.name: t for t in nps_topics.active_topics()}
    now = utcnow()
    accounts = db.session.execute(select(Account).where(Account.last_nps.is_not(None)).order_by(Account.id)
                                  ).scalars().all()
    for account in accounts:
        final = account.last_nps
        rounds = [(180, min(10, max(0, final + rng.choice([-1, 0, 1, 2])))), (90, final if rng.random() < .5 else
                                                                            min(10, final + 1)), (4, final)]
        for days_ago, score in rounds:
            when = now - timedelta(days=days_ago)
            survey = nps_survey.issue(account, when - timedelta(days=2))
            kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            comment = rng.choice(COMMENTS[kind])
            response = nps.answer(nps_survey.survey_link(survey).rsplit("/", 1)[1], score, comment)
            response.answered_at = when
            survey.answered_at = when
            if response.task is not None:
                response.task.due_at = when + timedelta(days=nps.DETRACTOR_DUE_DAYS)
            if response.taggable and comment in TOPICS and rng.random() < .85:
                response.topics = [topics[name] for name in TOPICS[comment] if name in topics]
            if response.is_detractor and days_ago > 30:
                nps.close_detractor(response, "Ligamos para o cliente e registramos a crítica.",
                                    "Plano combinado com o cliente e acompanhado no próximo follow-up.")
                response.closed_at = when + timedelta(days=1)
        account.last_nps_at = now - timedelta(days=4)
    db.session.flush()
    # this quarter's round also went to the accounts that have not answered yet
    for account in db.session.execute(select(Account).where(Account.last_nps.is_(None))).scalars():
        if account.main_contact is not None:
            nps_survey.issue(account, now - timedelta(days=6))
    db.session.flush()
