"""Rules read the event, not today's record: the worker may handle an event after the record moved on, and every
event a service publishes can carry a rule."""
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.errors import ServiceError
from portal.automation import subjects
from portal.automation.models import Notification, Rule, Task
from portal.automation.rules import preview, save_rule
from portal.cs.services import alerts, journey
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.services.intake import intake
from portal.presales.services.leads import move_to_stage
from portal.presales.services.schedules import add_schedule
from portal.web.filters import datetime_br
from tests.cs.conftest import cs_team, make_account  # noqa: F401  (fixtures)
from tests.presales.conftest import funnel, sales  # noqa: F401  (fixtures)

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def account_tasks(account, title_part):
    return db.session.execute(select(Task.title).where(Task.subject_type == "account", Task.subject_id == account.id,
                                                       Task.title.contains(title_part)).order_by(Task.id)).scalars().all()


def two_moves_before_the_worker(cs_team, name):  # noqa: F811
    account = make_account(cs_team["caio"], name=name)
    journey.change_phase(account, "adoption", cs_team["caio"])
    db.session.commit()
    journey.change_phase(account, "ongoing", cs_team["caio"])
    db.session.commit()
    return account


def test_seeded_phase_alerts_speak_of_the_phase_each_event_was_about(cs_team, run_jobs):  # noqa: F811
    alerts.ensure_default_rules()
    db.session.commit()
    run_jobs()
    account = two_moves_before_the_worker(cs_team, "Rede Farma Bem Estar")
    run_jobs()  # both phase events handled now, with the account already in Ongoing
    assert account_tasks(account, "Mudou de fase") == ["Mudou de fase: Rede Farma Bem Estar → Adoção",
                                                       "Mudou de fase: Rede Farma Bem Estar → Ongoing"]
    assert account_tasks(account, "Entrou em adoção") == ["Entrou em adoção: Rede Farma Bem Estar"]
    body = db.session.scalar(select(Task.description).where(Task.title.startswith("Entrou em adoção")))
    assert "Prazo previsto da fase: " in body and "Prazo previsto da fase: —" not in body


def test_a_worker_process_started_after_both_moves_gives_each_alert_its_phase(app, cs_team, run_jobs):  # noqa: F811
    """The real shape: `portal worker --burst` as its own process, started only once both moves are committed."""
    alerts.ensure_default_rules()
    db.session.commit()
    run_jobs()
    account = two_moves_before_the_worker(cs_team, "Lumen Engenharia")
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "PORTAL_INSTANCE_DIR": app.config["INSTANCE_DIR"]}
    db.session.rollback()  # no transaction left open: on SQLite the worker process must be able to write
    worker = subprocess.run([sys.executable, "-m", "portal.cli", "worker", "--burst"], env=env, capture_output=True,
                            text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert account_tasks(account, "Mudou de fase") == ["Mudou de fase: Lumen Engenharia → Adoção",
                                                       "Mudou de fase: Lumen Engenharia → Ongoing"]
    assert account_tasks(account, "Entrou em adoção") == ["Entrou em adoção: Lumen Engenharia"]


def test_rules_seeded_before_the_fix_read_the_state_at_the_event(cs_team, run_jobs):  # noqa: F811
    """Existing installs keep the old seeds (condition on `phase`, title with `account.phase_label`): the record's
    fields the event carries are read from the event, so they need no data fix."""
    old = {"name": "CS · Conta entrou em adoção (semente antiga)", "active": True, "subject_type": "account",
           "trigger": "event", "event_type": "account.phase_changed",
           "conditions": [{"field": "phase", "op": "eq", "value": "adoption"}],
           "actions": [{"type": "task", "to": "owner",
                        "subject": "Antiga: {{ account.name }} → {{ account.phase_label }}", "body": "."}]}
    save_rule(old)
    db.session.commit()
    account = two_moves_before_the_worker(cs_team, "Viagens Andorinha")
    run_jobs()
    assert account_tasks(account, "Antiga") == ["Antiga: Viagens Andorinha → Adoção"]


def test_conditions_on_the_payload_are_offered_and_checked(cs_team, run_jobs):  # noqa: F811
    base = {"name": "Saiu do onboarding", "active": True, "subject_type": "account", "trigger": "event",
            "event_type": "account.phase_changed",
            "actions": [{"type": "notify", "to": "owner", "subject": "{{ evento.de }} → {{ evento.para }}",
                         "body": "{{ account.name }}"}]}
    assert "evento.from" in subjects.event_fields("account")
    with pytest.raises(ServiceError) as bad:
        save_rule({**base, "conditions": [{"field": "evento.nao_existe", "op": "eq", "value": "x"}]})
    assert "conditions-0-field" in bad.value.args[0]
    db.session.rollback()
    with pytest.raises(ServiceError) as bad:  # a key another event carries is not this event's
        save_rule({**base, "conditions": [{"field": "evento.campos", "op": "not_empty"}]})
    db.session.rollback()
    save_rule({**base, "conditions": [{"field": "evento.from", "op": "eq", "value": "onboarding"}]})
    db.session.commit()
    assert preview({**base}, None)[0]["subject"] == "exemplo → exemplo"
    account = two_moves_before_the_worker(cs_team, "Frota Azul")
    run_jobs()
    titles = db.session.execute(select(Notification.title).where(Notification.user_id == cs_team["caio"].id)
                                ).scalars().all()
    assert titles == ["Onboarding → Adoção"]


def lead_rule(event_type, body):
    rule = save_rule({"name": f"Avisar {event_type}", "active": True, "subject_type": "lead", "trigger": "event",
                      "event_type": event_type,
                      "actions": [{"type": "notify", "to": "owner", "subject": "{{ lead.name }}", "body": body}]})
    db.session.commit()
    return rule


def notifications_of(rule):
    return db.session.execute(select(Notification.body).where(Notification.idempotency_key.startswith(f"r{rule.id}:"))
                              ).scalars().all()


def test_a_rule_on_lead_scheduled_fires(sales, run_jobs):  # noqa: F811
    rule = lead_rule("lead.scheduled", "Agendado: {{ evento.kind }} em {{ evento.at|data_hora }}")
    lead = intake({"name": "Fernanda Souza", "email": "fernanda@exemplo.com.br", "channel": "site",
                   "development": "jardim-europa"}).lead
    db.session.commit()
    when = utcnow().replace(microsecond=0) + timedelta(days=2)
    add_schedule(lead, lead.owner, "visit", when)
    db.session.commit()
    run_jobs()
    assert notifications_of(rule) == [f"Agendado: visit em {datetime_br(when)}"]


def test_a_rule_on_lead_handed_off_fires(app, sales, http_server, run_jobs):  # noqa: F811
    rule = lead_rule("lead.handed_off", "No CRM de vendas: {{ evento.external_id }}")
    app.config.update(SALES_CRM_URL=http_server.url + "/vimob/leads", SALES_CRM_SECRET="segredo-crm")
    http_server.reply = {"id": "VIMOB-77"}
    try:
        stage = next(s for s in sales["pipeline"].stages if s.name == "Proposta")
        stage.handoff = True
        lead = intake({"name": "Fernanda Souza", "email": "fernanda@exemplo.com.br", "channel": "site",
                       "development": "jardim-europa"}).lead
        lead.budget_range, lead.timeframe = "300_600", "3m"  # what the "Proposta" stage requires
        move_to_stage(lead, stage, lead.owner)
        db.session.commit()
        run_jobs()  # the handoff job publishes lead.handed_off; the same burst handles it
        run_jobs()
    finally:
        app.config.update(SALES_CRM_URL="", SALES_CRM_SECRET="")
    assert notifications_of(rule) == ["No CRM de vendas: VIMOB-77"]


def test_the_rule_editor_offers_the_lead_events_and_their_payload(client, login_as, sales):  # noqa: F811
    login_as(sales["admin"])
    page = client.get("/automacao/regras/nova?subject_type=lead&trigger=event").get_data(as_text=True)
    assert 'value="lead.scheduled"' in page and 'value="lead.handed_off"' in page
    assert 'value="evento.kind"' in page and "evento.&lt;campo&gt;" in page
    r = client.post("/automacao/regras/nova", data={
        "name": "Visita agendada", "active": "y", "subject_type": "lead", "trigger": "event",
        "event_type": "lead.scheduled", "conditions-0-field": "evento.kind", "conditions-0-op": "eq",
        "conditions-0-value": "visit", "actions-0-type": "notify", "actions-0-to": "owner",
        "actions-0-subject": "Visita de {{ lead.name }}", "actions-0-body": "{{ evento.at }}"})
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    rule = db.session.execute(select(Rule).where(Rule.name == "Visita agendada")).scalar_one()
    assert rule.conditions == [{"field": "evento.kind", "op": "eq", "value": "visit"}]


def test_every_event_a_service_publishes_is_a_rule_trigger(app):
    """A literal type in publish(...) anywhere under portal/ must be registered, or rules on it cannot be saved."""
    published = set()
    for path in PORTAL.rglob("*.py"):
        for call in re.finditer(r"\bpublish\(([^,]+),", path.read_text()):
            published |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', call.group(1)))
    assert {"lead.scheduled", "lead.handed_off", "account.phase_changed"} <= published
    assert sorted(published - set(subjects.EVENT_TYPES)) == []
