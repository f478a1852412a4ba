"""The pre-sales satisfaction survey end to end: the seeded rule e-mails the lead (real SMTP) when the lead is
handed off to the sales CRM (a real local HTTP server), the link answers once without login (1–5 and a comment),
and the answer shows on the dashboard and in the Feedback report's PDF; bad input is a field error, a forged or
expired link answers nothing."""
import re
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from portal.automation.models import Rule
from portal.extensions import db
from portal.presales.models import LeadSurvey
from portal.presales.services import surveys
from portal.presales.services.intake import intake
from portal.presales.services.leads import move_to_stage
from tests.presales.test_dashboard import pdf_text


def survey_link_from_mail(smtp_server) -> str:
    mail = next(m["message"] for m in smtp_server.messages if "atendimento" in m["message"]["Subject"])
    body = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/pre-vendas/pesquisa/\S+", body).group(0)


def handed_off_lead(app, sales, http_server, run_jobs):
    assert surveys.ensure_default_rules() == ["presales.handed_off.survey"]
    assert surveys.ensure_default_rules() == []  # seeded once
    db.session.commit()
    app.config.update(SALES_CRM_URL=http_server.url + "/crm/leads", SALES_CRM_SECRET="segredo-crm")
    http_server.reply = {"id": "CRM-77"}
    try:
        stage = next(s for s in sales["pipeline"].stages if s.name == "Proposta")
        stage.handoff = True
        lead = intake({"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "channel": "site",
                       "development": "jardim-europa"}).lead
        lead.budget_range, lead.timeframe = "300_600", "3m"
        move_to_stage(lead, stage, lead.owner)
        db.session.commit()
        run_jobs()  # hand-off → lead.handed_off → the survey rule → the e-mail
        run_jobs()
    finally:
        app.config.update(SALES_CRM_URL="", SALES_CRM_SECRET="")
    return lead


def test_handed_off_lead_gets_the_survey_answers_once_and_the_dashboard_and_report_show_it(
        app, client, login_as, sales, http_server, smtp_server, run_jobs):
    lead = handed_off_lead(app, sales, http_server, run_jobs)
    link = survey_link_from_mail(smtp_server)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert "fernanda" not in link.lower()  # a signed random key, never the e-mail

    page = client.get("/" + path)
    assert page.status_code == 200 and "Jardim Europa" in page.get_data(as_text=True)
    bad = client.post("/" + path, data={"score": "9", "comment": "x"})
    assert bad.status_code == 422 and "Escolha uma nota de 1 a 5." in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(LeadSurvey.answered_at.is_not(None))) == 0

    done = client.post("/" + path, data={"score": "4", "comment": "Corretora atenciosa, respondeu rápido."})
    assert done.status_code == 200 and "Obrigado!" in done.get_data(as_text=True)
    again = client.post("/" + path, data={"score": "1", "comment": "mudei de ideia"})
    assert "Obrigado!" in again.get_data(as_text=True)
    survey = db.session.execute(select(LeadSurvey)).scalar_one()
    db.session.refresh(survey)
    assert (survey.lead_id, survey.score, survey.owner_id) == (lead.id, 4, lead.owner_id)

    login_as(sales["head"])
    html = client.get("/pre-vendas/painel/").get_data(as_text=True)
    assert "Satisfação com a pré-venda" in html and "nota média <strong>4,0</strong>" in html
    assert "Corretora atenciosa, respondeu rápido." in html and 'aria-label="4 · Satisfeito: 1"' not in html

    from portal.presales.metrics.figures import today_local
    today = today_local().isoformat()  # the report's days are São Paulo days, not UTC ones
    from tests.presales.test_dashboard import run_report
    r = run_report(client, run_jobs, "presales.feedback", start=today, end=today)
    text = pdf_text(r.data)
    assert re.search(r"Pesquisas\s+enviadas\s+1\s+Respondidas\s+1\s+Nota\s+média\s+4,0", text), text
    assert re.search(r"5 · Muito satisfeito\s+0\s+4 · Satisfeito\s+1", text)  # the 1..5 chart


def test_forged_and_expired_links_answer_nothing(app, client, sales, http_server, smtp_server, run_jobs):
    handed_off_lead(app, sales, http_server, run_jobs)
    path = "/" + survey_link_from_mail(smtp_server).split("://", 1)[1].split("/", 1)[1]
    assert client.get(path[:-2] + "xx").status_code == 404
    with time_machine.travel(timedelta(days=app.config["SURVEY_LINK_MAX_AGE_DAYS"] + 1)):
        r = client.post(path, data={"score": "5"})
    assert r.status_code == 410
    assert db.session.execute(select(LeadSurvey.answered_at)).scalar_one() is None


def test_the_rule_is_editable_and_a_deleted_rule_is_not_seeded_again(sales):
    surveys.ensure_default_rules()
    db.session.commit()
    rule = db.session.execute(select(Rule).where(Rule.event_type == "lead.handed_off")).scalar_one()
    assert "{{ lead.survey_link }}" in rule.actions[0]["body"]
    db.session.delete(rule)
    db.session.commit()
    assert surveys.ensure_default_rules() == []
