"""NPS surveys sent by the seeded default rule: Monday 10:00 each account whose last survey (or contract
start) is 90+ days old gets one e-mail (and an SMS when its contact has a phone) with a signed single-use
link; the pending survey is issued once per send; the link opens without login and answers once."""
import re

import time_machine
from sqlalchemy import func, select

from portal.automation import engine
from portal.automation.models import Delivery, Rule
from portal.cs.models import Account
from portal.cs.nps_models import NpsResponse, NpsSurvey
from portal.cs.services import accounts as account_services
from portal.cs.services import nps, nps_survey
from portal.extensions import db
from tests.cs.conftest import at, make_account

LINK = re.compile(r"http://localhost(/sucesso/nps/r/[\w.\-]+)")


def _account(name, csm, start, email=None, phone=None, products=()):
    account = make_account(csm, name=name, contract_start=start, product_ids=[p.id for p in products])
    if email:
        account_services.save_contact(account, {"name": f"Marina {name.split()[0]}", "email": email,
                                                "phone": phone or "", "role": "decision"})
        db.session.commit()
    return account


def _seed(run_jobs):
    rule = nps_survey.ensure_survey_rule()
    db.session.commit()
    run_jobs()  # the time rule's backfill
    return rule


def _links(smtp_server):
    out = {}
    for item in smtp_server.messages:
        body = item["message"].get_body(("plain",)).get_content()
        out.setdefault(item["to"][0], []).extend(LINK.findall(body))
    return out


def test_default_rule_is_seeded_once_and_validates(app, run_jobs):
    rule = _seed(run_jobs)
    assert nps_survey.ensure_survey_rule().id == rule.id
    assert db.session.scalar(select(func.count(Rule.id))) == 1
    assert rule.trigger == "time" and rule.date_field == "weekly_at" and rule.repeat_every_days == 7
    assert rule.conditions == [{"field": "nps_days_since_survey", "op": "ge", "value": "90"}]
    assert {a["channel"] for a in rule.actions} == {"email", "sms"}
    assert all("account.nps_link" in a["body"] for a in rule.actions)


def test_rule_sends_one_survey_per_account_and_the_link_answers_once(app, client, cs_team, catalog, run_jobs,
                                                                     smtp_server, http_server):
    app.config.update(SMS_API_URL=http_server.url + "/sms", SMS_API_TOKEN="tok")
    caio = cs_team["caio"]
    try:
        with time_machine.travel(at("2026-03-02 09:00"), tick=False):
            _seed(run_jobs)
            alfa = _account("Alfa Engenharia", caio, "01/06/2025", "marina@alfa.com.br", "(11) 98765-4321",
                            products=[catalog["expenses"], catalog["travel"]])
            beta = _account("Beta Logística", caio, "01/06/2025", "marina@beta.com.br")
            _account("Gama Novata", caio, "01/02/2026", "marina@gama.com.br")   # client for 29 days only
            delta = _account("Delta Recente", caio, "01/06/2025", "marina@delta.com.br")
            _account("Épsilon Sem Contato", caio, "01/06/2025")                 # nobody to write to
        with time_machine.travel(at("2026-02-10 11:00"), tick=False):        # Delta answered 20 days before
            nps.answer(nps.survey_token(delta), 9)
            db.session.commit()

        for moment in ("2026-03-02 10:00", "2026-03-02 10:01", "2026-03-02 15:00", "2026-03-09 10:00"):
            with time_machine.travel(at(moment), tick=False):
                engine.sweep_due(at(moment))
                run_jobs()

        links = _links(smtp_server)
        assert sorted(links) == ["marina@alfa.com.br", "marina@beta.com.br"]  # one e-mail each, nobody else
        assert all(len(found) == 1 for found in links.values())
        surveys = db.session.execute(select(NpsSurvey).where(NpsSurvey.account_id != delta.id)  # answered in Feb
                                     .order_by(NpsSurvey.id)).scalars().all()
        assert [s.account_id for s in surveys] == [alfa.id, beta.id]
        assert all(s.answered_at is None and s.sent_at == at("2026-03-02 10:00") for s in surveys)
        (sms,) = http_server.requests  # only Alfa's contact has a phone
        assert sms["json"]["to"].endswith("11987654321")
        assert LINK.findall(sms["json"]["message"]) == links["marina@alfa.com.br"]  # same send, same link

        # the link opens without login and answers once
        path = links["marina@alfa.com.br"][0]
        with time_machine.travel(at("2026-03-03 08:00"), tick=False):  # within the link's 30 days
            page = client.get(path)
        assert page.status_code == 200 and "0 a 10" in page.get_data(as_text=True)
        with time_machine.travel(at("2026-03-03 08:30"), tick=False):
            done = client.post(path, data={"score": "5", "comment": "Relatórios lentos"})
        assert done.status_code == 200 and "Obrigado" in done.get_data(as_text=True)
        again = client.post(path, data={"score": "10"})
        assert again.status_code == 409 and "já respondida" in again.get_data(as_text=True)
        assert "já respondida" in client.get(path).get_data(as_text=True)
        response = db.session.execute(select(NpsResponse).where(NpsResponse.account_id == alfa.id)).scalar_one()
        assert (response.score, response.comment) == (5, "Relatórios lentos")
        assert [p.name for p in response.products] == ["Despesas", "Viagens"]
        db.session.refresh(surveys[0])
        assert surveys[0].answered_at == at("2026-03-03 08:30") and surveys[0].response_id == response.id
        assert response.task_id is not None  # a detractor: the CSM's follow-up task exists

        # 13 weeks later the cadence sends again, with a new link (Beta never answered the first one);
        # Gama is now a client for 120 days and Delta's answer is 111 days old: they get their first one
        with time_machine.travel(at("2026-06-01 10:00"), tick=False):
            engine.sweep_due(at("2026-06-01 10:00"))
            run_jobs()
        links = _links(smtp_server)
        assert {k: len(v) for k, v in links.items()} == {"marina@alfa.com.br": 2, "marina@beta.com.br": 2,
                                                         "marina@gama.com.br": 1, "marina@delta.com.br": 1}
        assert len(set(links["marina@beta.com.br"])) == 2
        assert db.session.scalar(select(func.count(NpsSurvey.id))) == 7  # 6 sent by the rule + Delta's in February
        assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.channel == "email")) == 6
    finally:
        app.config.update(SMS_API_URL="", SMS_API_TOKEN="")


def test_printing_the_link_issues_the_survey_once_and_other_rules_issue_none(app, cs_team):
    account = _account("Alfa Engenharia", cs_team["caio"], "01/06/2025", "marina@alfa.com.br")
    from portal.automation.actions import template_context
    from portal.automation.templating import render
    ctx = template_context("account", account)  # every account rule builds this context
    assert db.session.scalar(select(func.count(NpsSurvey.id))) == 0  # not printed: nothing issued
    first = render("{{ account.nps_link }}", ctx)
    assert render("Link: {{ account.nps_link }}", ctx) == f"Link: {first}"  # e-mail and SMS of one send
    assert db.session.scalar(select(func.count(NpsSurvey.id))) == 1
    # a resend within 30 days carries the same pending survey (signed afresh: its 30 days count from the
    # resend); once answered, a new one is issued
    def survey_of(link):
        return nps.link_state(LINK.search(link).group(1).rsplit("/", 1)[1])[0]
    assert survey_of(str(db.session.get(Account, account.id).nps_link)) is survey_of(first)
    nps.answer(LINK.search(first).group(1).rsplit("/", 1)[1], 10)
    assert str(account.nps_link) != first
    assert db.session.scalar(select(func.count(NpsSurvey.id))) == 2


def test_days_since_survey_field(app, cs_team):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False):
        account = _account("Alfa Engenharia", cs_team["caio"], "01/01/2026", "marina@alfa.com.br")
        assert account.nps_days_since_survey == 60  # never surveyed: since the contract started
        nps_survey.issue(account)
    with time_machine.travel(at("2026-03-12 09:00"), tick=False):
        assert db.session.get(Account, account.id).nps_days_since_survey == 10


def test_a_webhook_rule_never_mints_a_survey_link(app, cs_team, http_server, run_jobs):
    from portal.automation.events import publish
    from portal.automation.rules import save_rule
    save_rule({"name": "Conta para o ERP", "active": True, "trigger": "event", "subject_type": "account",
               "event_type": "account.updated", "actions": [{"type": "webhook", "url": http_server.url + "/hook"}]})
    account = make_account(cs_team["caio"], name="Gama Logística")
    publish("account.updated", account)
    db.session.commit()
    run_jobs()
    run_jobs()
    (req,) = [r for r in http_server.requests if r["path"] == "/hook"]
    assert req["json"]["data"]["name"] == "Gama Logística" and "nps_link" not in req["json"]["data"]
    assert db.session.scalar(select(func.count(NpsSurvey.id))) == 0
