"""Admin settings of the engine: calendar, holidays, opt-outs and the public unsubscribe link."""
import re

from sqlalchemy import func, select

from portal.automation.calendar import get_calendar
from portal.automation.models import Delivery, Holiday, OptOut
from portal.automation.rules import save_rule
from portal.extensions import db
from tests.factories import make_user


def test_admin_sets_business_hours_and_bad_input_changes_nothing(client, login_as):
    login_as(make_user("admin"))
    base = {"workdays": ["0", "1", "2", "3", "4", "5"], "day_start": "09:00", "day_end": "19:00",
            "quiet_start": "22:00", "quiet_end": "07:30", "national_holidays": "y", "state": "sp"}
    assert client.post("/automacao/calendario", data=base).status_code == 302
    cal = get_calendar()
    assert cal.workdays == {0, 1, 2, 3, 4, 5} and str(cal.day_start) == "09:00:00" and cal.state == "SP"
    r = client.post("/automacao/calendario", data={**base, "day_end": "08:00", "state": "XX"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "terminar depois de começar" in html and "UF inválida." in html
    assert str(get_calendar().day_end) == "19:00:00"
    r = client.post("/automacao/calendario", data={**base, "day_start": "25:99"})
    assert r.status_code == 422 and "Use HH:MM." in r.get_data(as_text=True)


def test_company_holiday_is_added_once(client, login_as):
    login_as(make_user("admin"))
    data = {"day": "2026-07-09", "name": "Revolução Constitucionalista"}
    assert client.post("/automacao/calendario/feriados", data=data).status_code == 302
    r = client.post("/automacao/calendario/feriados", data=data, follow_redirects=True)
    assert "Já existe um feriado nesta data." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Holiday.id))) == 1
    assert "Revolução Constitucionalista" in client.get("/automacao/calendario").get_data(as_text=True)


def test_unsubscribe_link_in_rule_email_opts_the_contact_out(client, run_jobs):
    save_rule({"name": "Boas-vindas", "active": True, "trigger": "event", "subject_type": "user",
               "event_type": "user.created", "actions": [{"type": "message", "channel": "email", "to": "contact",
                                                          "subject": "Oi", "body": "Olá"}]})
    db.session.commit()
    user = make_user("broker")
    run_jobs()
    body = db.session.execute(select(Delivery)).scalar_one().body
    link = re.search(r"http://localhost(/automacao/descadastrar/\S+)", body).group(1)
    assert "Confirmar descadastro" in client.get(link).get_data(as_text=True)
    client.post(link)
    assert db.session.execute(select(OptOut)).scalar_one().contact == user.email
    assert client.get("/automacao/descadastrar/forjado").status_code == 400


def test_admin_registers_an_opt_out_with_a_normalized_phone(client, login_as):
    login_as(make_user("admin"))
    r = client.post("/automacao/descadastros", data={"channel": "sms", "contact": "(11) 98765-4321"})
    assert r.status_code == 302
    assert db.session.execute(select(OptOut)).scalar_one().contact == "+5511987654321"
    r = client.post("/automacao/descadastros", data={"channel": "sms", "contact": "123"})
    assert r.status_code == 422 and "Telefone inválido." in r.get_data(as_text=True)
