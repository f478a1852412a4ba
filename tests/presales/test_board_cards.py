"""The Kanban card shows what a broker decides on — value, next scheduled activity, days without contact — and
turns red once a lead has gone without contact longer than its stage allows (the stage's "contact_days", set on
the stage form). The board's statement count does not grow with what the cards show."""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import event

from portal.extensions import db
from portal.presales.models import Stage
from portal.presales.services.leads import log_contact
from portal.presales.services.schedules import add_schedule
from tests.presales.test_views import new_lead, stage

SP = ZoneInfo("America/Sao_Paulo")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def text(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def card(html: str, lead) -> str:
    return re.search(rf'<li class="lead-card[^"]*" id="lead-{lead.id}".*?</li>\s*(?=<li class="lead-card|<li class="load|</ol>)',
                     html, re.S).group(0)


def test_card_shows_value_next_activity_and_days_without_contact_red_past_the_stage_limit(sales, client, login_as):
    broker = sales["south_broker"]
    sales["queue"].members[1].paused = True  # every lead to the south broker
    service = stage("Atendimento")
    service.contact_days = 7
    db.session.commit()
    with time_machine.travel(at("2026-03-02 09:00"), tick=False):
        stale, fresh, never = new_lead(1), new_lead(2), new_lead(3)
        log_contact(stale, "call", "Primeiro contato", broker)
        stale.negotiated_value_cents = 45_000_000
        db.session.commit()
    with time_machine.travel(at("2026-03-09 10:00"), tick=False):
        log_contact(fresh, "whatsapp", "Mandou as plantas", broker)
        add_schedule(fresh, broker, "visit", at("2026-03-14 15:30"))
        db.session.commit()
    for lead in (stale, fresh, never):
        assert lead.stage_id == service.id

    login_as(broker)
    with time_machine.travel(at("2026-03-11 10:00"), tick=False):
        html = client.get("/pre-vendas/funil").get_data(as_text=True)

    old = card(html, stale)
    assert 'class="lead-card is-stale"' in old  # 9 days > the stage's 7
    assert "R$ 450.000,00" in old and "9 dias sem contato" in old and "Sem agendamento" in old
    assert "Passou do limite de 7 dias sem contato desta etapa" in old

    recent = card(html, fresh)
    assert 'class="lead-card"' in recent and "is-stale" not in recent
    assert "2 dias sem contato" in recent and "Próxima: 14/03 15:30" in text(recent) and "R$" not in recent

    waiting = card(html, never)  # never contacted: counted from the assignment, 9 days ago
    assert "Sem contato · 9 dias" in waiting and "is-stale" in waiting

    # A stage without a limit never colours its cards.
    service.contact_days = None
    db.session.commit()
    with time_machine.travel(at("2026-03-11 10:00"), tick=False):
        html = client.get("/pre-vendas/funil").get_data(as_text=True)
    assert "is-stale" not in html and "9 dias sem contato" in html


def test_board_statements_do_not_grow_with_the_cards(sales, client, login_as, app):
    sales["queue"].members[1].paused = True
    db.session.commit()
    login_as(sales["south_broker"])

    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/pre-vendas/funil").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    lead = new_lead(1)
    add_schedule(lead, sales["south_broker"], "call", datetime.now(timezone.utc) + timedelta(days=1))
    lead.negotiated_value_cents = 10_000_000
    db.session.commit()
    one = statements()
    for n in range(2, 12):
        other = new_lead(n)
        log_contact(other, "call", "Contato", sales["south_broker"])
        add_schedule(other, sales["south_broker"], "visit", datetime.now(timezone.utc) + timedelta(days=n))
        other.negotiated_value_cents = n * 1_000_000
    db.session.commit()
    assert statements() == one


def test_stage_form_sets_the_contact_limit_and_refuses_nonsense(sales, client, login_as):
    service = stage("Atendimento")
    pipeline_id = service.pipeline_id
    login_as(sales["admin"])
    url = f"/pre-vendas/config/funis/{pipeline_id}/etapas/{service.id}"
    assert 'name="contact_days"' in client.get(url).get_data(as_text=True)

    r = client.post(url, data={"name": "Atendimento", "color": "#f59e0b", "contact_days": "zero"})
    assert r.status_code == 422
    db.session.expire_all()
    before = db.session.get(Stage, service.id).contact_days
    r = client.post(url, data={"name": "Atendimento", "color": "#f59e0b", "contact_days": "0"})
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(Stage, service.id).contact_days == before

    r = client.post(url, data={"name": "Atendimento", "color": "#f59e0b", "contact_days": "3"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Stage, service.id).contact_days == 3
