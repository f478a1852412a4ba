"""Events → rules → deliveries over real SMTP and HTTP servers."""
import threading

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from portal import jobs
from portal.accounts import services
from portal.automation import engine
from portal.automation.deliveries import opt_out
from portal.automation.events import publish
from portal.automation.models import Delivery, Event, Notification, Rule, Task
from portal.automation.rules import save_rule
from portal.extensions import db
from tests.factories import make_development, make_team, make_user


def rule(**kw):
    data = {"name": "Boas-vindas", "active": True, "trigger": "event", "subject_type": "user",
            "event_type": "user.created", "conditions": [], "actions": [], **kw}
    r = save_rule(data)
    db.session.commit()
    return r


def welcome_email(**over):
    return {"type": "message", "channel": "email", "to": "contact",
            "subject": "Bem-vindo, {{ user.name }}", "body": "Olá {{ contato.nome }}, seu perfil é {{ user.role_label }}.",
            **over}


def new_user(role="broker", **kw):
    user = services.create_user({"name": "Renata Lopes", "email": "renata@exemplo.com.br", "role": role,
                                 "phone": "+5511987654321", **kw}, password="segredo123")
    db.session.commit()
    return user


def test_event_is_written_in_the_same_transaction_and_vanishes_on_rollback(app):
    make_user("admin")
    services.create_user({"name": "Fantasma", "email": "fantasma@exemplo.com.br", "role": "broker"}, password="segredo123")
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "user.created")) == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "user.created")) == 1
    assert len(jobs.queue("default")) == 1  # only the committed event was handed to the queue


def test_rule_sends_email_over_smtp_with_rendered_placeholders(smtp_server, run_jobs):
    rule(actions=[welcome_email()])
    user = new_user()
    run_jobs()
    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got["to"] == ["renata@exemplo.com.br"]
    assert got["message"]["Subject"] == "Bem-vindo, Renata Lopes"
    assert "Olá Renata Lopes, seu perfil é Corretor." in got["message"].get_body(("plain",)).get_content()
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.subject_id == user.id


def test_conditions_filter_records(smtp_server, run_jobs):
    rule(actions=[welcome_email()], conditions=[{"field": "role", "op": "eq", "value": "sdr"}])
    new_user(role="broker")
    run_jobs()
    assert smtp_server.messages == []
    assert db.session.get(Event, 1).processed_at is not None


def test_sms_goes_to_the_http_provider_with_bearer_token(app, http_server, run_jobs):
    app.config.update(SMS_API_URL=http_server.url + "/sms", SMS_API_TOKEN="tok-123")
    try:
        rule(actions=[{"type": "message", "channel": "sms", "to": "contact", "body": "Oi {{ contato.nome }}!"}],
             quiet_hours=False)
        new_user()
        run_jobs()
    finally:
        app.config.update(SMS_API_URL="", SMS_API_TOKEN="")
    (req,) = http_server.requests
    assert req["path"] == "/sms" and req["headers"]["Authorization"] == "Bearer tok-123"
    assert req["json"]["to"] == "+5511987654321" and req["json"]["message"] == "Oi Renata Lopes!"
    assert db.session.execute(select(Delivery)).scalar_one().provider_id == "msg-1"


def test_a_send_that_fails_once_is_retried_and_delivered_exactly_once(app, http_server, run_jobs):
    http_server.statuses = [500]
    app.config.update(WHATSAPP_API_URL=http_server.url)
    try:
        rule(actions=[{"type": "message", "channel": "whatsapp", "to": "contact", "body": "Olá!"}], quiet_hours=False)
        new_user()
        run_jobs()
        run_jobs()  # a second worker pass finds nothing more to send
    finally:
        app.config.update(WHATSAPP_API_URL="")
    assert len(http_server.requests) == 2  # the 500, then the success — and nothing after it
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, None)


def test_provider_answering_500_ends_failed_with_reason_and_retry_button_resends(app, client, login_as,
                                                                                  http_server, run_jobs):
    admin = make_user("admin")
    run_jobs()  # the admin's own user.created event is handled before the rule exists
    http_server.status = 500
    http_server.reply = {"error": "saldo insuficiente"}
    app.config.update(SMS_API_URL=http_server.url)
    try:
        rule(actions=[{"type": "message", "channel": "sms", "to": "contact", "body": "Olá!"}], quiet_hours=False)
        new_user()
        run_jobs()
        delivery = db.session.execute(select(Delivery)).scalar_one()
        assert delivery.status == "failed" and delivery.attempts == 4  # first try + 3 retries
        assert "HTTP 500" in delivery.error and "saldo insuficiente" in delivery.error
        assert FailedJobRegistry(queue=jobs.queue("high")).count == 1
        login_as(admin)
        page = client.get(f"/automacao/mensagens/{delivery.id}").get_data(as_text=True)
        assert "saldo insuficiente" in page and "Reenviar" in page
        http_server.status = 200
        assert client.post(f"/automacao/mensagens/{delivery.id}/reenviar").status_code == 302
        run_jobs()
    finally:
        app.config.update(SMS_API_URL="")
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).status == "sent"
    assert len(http_server.requests) == 5


def test_unreachable_smtp_server_is_a_failed_delivery_with_the_reason(app, run_jobs):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed as soon as we leave: nobody listens there
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        rule(actions=[welcome_email()])
        new_user()
        run_jobs()
    finally:
        app.config.update(MAIL_SERVER="")
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.status == "failed" and f"SMTP 127.0.0.1:{port}" in delivery.error and "Refused" in delivery.error


def test_two_workers_on_the_same_event_deliver_once(app, smtp_server):
    rule(actions=[welcome_email()])
    new_user()
    event_id = db.session.execute(select(Event.id).where(Event.type == "user.created")).scalar_one()
    results = []

    def work():
        with app.app_context():
            results.append(engine.process_event(event_id))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already-processed", "processed"]
    assert db.session.scalar(select(func.count(Delivery.id))) == 1


def test_opted_out_contact_is_skipped_and_recorded(smtp_server, run_jobs):
    rule(actions=[welcome_email()])
    opt_out("email", "RENATA@exemplo.com.br", "pediu por telefone")
    new_user()
    run_jobs()
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.status == "skipped" and "LGPD" in delivery.error
    assert smtp_server.messages == []


def test_default_email_channel_writes_eml_to_outbox(app, run_jobs):
    import os
    rule(actions=[welcome_email()])
    new_user()
    run_jobs()
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.status == "sent" and delivery.provider_id.startswith("outbox:")
    path = os.path.join(app.config["OUTBOX_DIR"], delivery.provider_id.split(":", 1)[1])
    assert "Subject: Bem-vindo, Renata Lopes" in open(path, encoding="utf-8").read()


def test_notify_task_webhook_and_manager_recipient(app, http_server, run_jobs):
    boss = make_user("manager", name="Paula Gestora")
    team = make_team("Zona Sul", manager=boss)
    run_jobs()
    app.config["WEBHOOK_SECRET"] = "s3cr3t"
    try:
        rule(actions=[
            {"type": "notify", "to": "manager", "subject": "Novo na equipe: {{ user.name }}", "body": "{{ user.email }}"},
            {"type": "task", "to": "manager", "subject": "Treinar {{ user.name }}", "due_days": 3},
            {"type": "webhook", "url": http_server.url + "/hook"},
        ])
        new_user(team_id=team.id)
        run_jobs()
        run_jobs()
    finally:
        app.config["WEBHOOK_SECRET"] = ""
    note = db.session.execute(select(Notification)).scalar_one()
    assert note.user_id == boss.id and note.title == "Novo na equipe: Renata Lopes"
    task = db.session.execute(select(Task)).scalar_one()
    assert task.assignee_id == boss.id and task.title == "Treinar Renata Lopes" and task.due_at is not None
    (req,) = http_server.requests
    assert req["json"]["data"]["email"] == "renata@exemplo.com.br" and req["json"]["event"] == "user.created"
    import hashlib
    import hmac
    assert req["headers"]["X-Portal-Signature"] == "sha256=" + hmac.new(b"s3cr3t", req["body"], hashlib.sha256).hexdigest()


def test_set_field_action_changes_the_record(run_jobs):
    dev = make_development()
    unit = dev.towers[0].units[0]
    save_rule({"name": "Reservar", "active": True, "trigger": "event", "subject_type": "unit",
               "event_type": "unit.status_changed", "actions": [{"type": "set_field", "field": "status",
                                                                 "value": "reserved"}]})
    publish("unit.status_changed", unit)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert db.session.get(type(unit), unit.id).status == "reserved"


def test_broken_template_at_send_time_fails_that_rule_only_with_reason(run_jobs):
    good = rule(actions=[welcome_email()])
    bad = Rule(name="Quebrada", active=True, trigger="event", subject_type="user", event_type="user.created",
               conditions=[], actions=[{"type": "message", "channel": "email", "to": "contact", "subject": "x",
                                        "body": "{{ user.inexistente }}"}])
    db.session.add(bad)  # saved around the validation, as an old rule could be
    db.session.commit()
    new_user()
    run_jobs()
    event = db.session.execute(select(Event).where(Event.type == "user.created")).scalar_one()
    assert event.processed_at is not None and "Quebrada" in event.error and "inexistente" in event.error
    assert [d.rule_id for d in db.session.execute(select(Delivery)).scalars()] == [good.id]


def test_bell_shows_unread_count(client, login_as):
    from portal.automation.services import notify
    user = make_user("broker")
    notify(user.id, "Lead novo", "L-000123")
    db.session.commit()
    login_as(user)
    bell = client.get("/automacao/notificacoes/sino").get_data(as_text=True)
    assert '<span class="badge">1</span>' in bell
    client.post("/automacao/notificacoes/lidas")
    assert 'class="badge"' not in client.get("/automacao/notificacoes/sino").get_data(as_text=True)


@pytest.mark.parametrize("body,message", [("Olá {{ contato.nome }", "Erro de sintaxe na linha 1"),
                                          ("Olá {{ user.senha }}", "O campo {{ user.senha }} não existe")])
def test_rule_with_bad_template_is_refused_on_save_with_the_reason(client, login_as, body, message):
    login_as(make_user("admin"))
    r = client.post("/automacao/regras/nova", data={
        "name": "Teste", "active": "y", "trigger": "event", "subject_type": "user", "event_type": "user.created",
        "actions-0-type": "message", "actions-0-channel": "email", "actions-0-to": "contact",
        "actions-0-subject": "Oi", "actions-0-body": body, "action": "save"})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Rule.id))) == 0


def test_rule_editor_previews_with_a_real_record_then_saves(client, login_as):
    admin = make_user("admin", name="Ana Administradora")
    login_as(admin)
    data = {"name": "Boas-vindas", "active": "y", "trigger": "event", "subject_type": "user",
            "event_type": "user.created", "actions-0-type": "message", "actions-0-channel": "email",
            "actions-0-to": "contact", "actions-0-subject": "Oi {{ user.name }}",
            "actions-0-body": "Equipe: {{ user.team.name }}", "preview_record": str(admin.id), "action": "preview"}
    r = client.post("/automacao/regras/nova", data=data)
    assert r.status_code == 200 and "Oi Ana Administradora" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Rule.id))) == 0
    r = client.post("/automacao/regras/nova", data={**data, "action": "save"})
    assert r.status_code == 302
    saved = db.session.execute(select(Rule)).scalar_one()
    assert saved.actions[0]["body"] == "Equipe: {{ user.team.name }}"
    assert client.get(f"/automacao/regras/{saved.id}").status_code == 200
    part = client.get("/automacao/regras/nova?subject_type=unit&trigger=time", headers={"HX-Request": "true"})
    assert "Data de referência" in part.get_data(as_text=True) and "<html" not in part.get_data(as_text=True)


def test_date_filters_validate_on_save_and_bad_use_is_a_clear_error(client, login_as):
    login_as(make_user("admin"))
    base = {"name": "Datas", "active": "y", "trigger": "event", "subject_type": "user", "event_type": "user.created",
            "actions-0-type": "message", "actions-0-channel": "email", "actions-0-to": "contact",
            "actions-0-subject": "Oi", "action": "save"}
    ok = client.post("/automacao/regras/nova", data={**base, "actions-0-body": "Desde {{ user.created_at|data_hora }}"})
    assert ok.status_code == 302
    bad = client.post("/automacao/regras/nova", data={**base, "name": "Ruim", "actions-0-body": "{{ user.name|data }}"})
    assert bad.status_code == 422 and "Erro ao montar a mensagem" in bad.get_data(as_text=True)
