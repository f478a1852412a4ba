"""SLA clocks and breaches, agendamentos and "atender pendentes", with frozen time."""
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from portal.automation.models import Delivery, Event, Notification
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, Schedule
from portal.presales.services import pending, sla
from portal.presales.services.intake import intake
from portal.presales.services.leads import log_contact, move_to_stage
from portal.presales.services.schedules import add_schedule
from tests.conftest import USING_POSTGRES

SP = ZoneInfo("America/Sao_Paulo")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def new_lead(i=0, **over):
    data = {"name": f"Cliente {i}", "email": f"cliente{i}@exemplo.com.br", "phone": f"+5511987600{i:03d}",
            "channel": "site", "development": "jardim-europa", **over}
    lead = intake(data).lead
    db.session.commit()
    return lead


def test_due_time_follows_business_hours_and_holidays(sales):
    with time_machine.travel(at("2026-11-19 17:30"), tick=False):  # Thursday; Friday 20/11 is a holiday
        lead = new_lead()
    assert lead.first_response_due == at("2026-11-23 08:30")  # 60 business minutes: 30 Thu + 30 Mon


def test_breach_is_raised_once_and_alerts_owner_and_manager(sales, run_jobs):
    south = sales["south_broker"]
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        lead = new_lead()
        run_jobs()
    assert lead.owner_id == south.id and lead.first_response_due == at("2026-03-02 11:00")
    assert sla.sla_state(lead, at("2026-03-02 10:30")) == "on_time"
    assert sla.sla_state(lead, at("2026-03-02 10:50")) == "due_soon"
    with time_machine.travel(at("2026-03-02 10:59"), tick=False):
        assert sla.sweep()["first_response"] == 0
    with time_machine.travel(at("2026-03-02 11:01"), tick=False):
        assert sla.sweep()["first_response"] == 1
        assert sla.sweep()["first_response"] == 0  # once
        run_jobs()
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "lead.sla_breached")) == 1
    notified = {n.user_id for n in db.session.execute(select(Notification).where(
        Notification.title.like("SLA estourado%"))).scalars()}
    assert notified == {south.id, sales["south_mgr"].id}
    mails = {d.recipient for d in db.session.execute(select(Delivery).where(Delivery.subject.like("SLA%"))).scalars()}
    assert mails == {south.email, sales["south_mgr"].email}
    assert sla.sla_state(db.session.get(Lead, lead.id)) == "breached"


def test_a_contact_before_the_due_time_stops_the_clock(sales):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        lead = new_lead()
    with time_machine.travel(at("2026-03-02 10:40"), tick=False):
        log_contact(lead, "call", "Falei com a cliente", sales["south_broker"])
        db.session.commit()
    with time_machine.travel(at("2026-03-02 12:00"), tick=False):
        assert sla.sweep()["first_response"] == 0
    assert sla.sla_state(lead) == "done"


def test_a_note_or_someone_else_does_not_count_as_first_response(sales):
    lead = new_lead()
    log_contact(lead, "note", "anotação interna", sales["south_broker"])
    log_contact(lead, "call", "ligação do gestor", sales["south_mgr"])
    assert lead.first_response_at is None


def test_stage_time_limit_breaches(sales):
    stage = next(s for s in sales["pipeline"].stages if s.name == "Proposta")
    stage.max_minutes = 120
    lead = new_lead()
    lead.budget_range, lead.timeframe = "300_600", "3m"
    with time_machine.travel(at("2026-03-03 09:00"), tick=False):
        move_to_stage(lead, stage, sales["south_broker"])
        db.session.commit()
    assert lead.stage_due_at == at("2026-03-03 11:00")
    with time_machine.travel(at("2026-03-03 11:01"), tick=False):
        assert sla.sweep()["stage"] == 1


def test_stage_requiring_a_schedule_asks_for_date_and_creates_it(sales):
    stage = next(s for s in sales["pipeline"].stages if s.name == "Visita agendada")
    stage.requires_schedule = True
    lead = new_lead()
    from portal.errors import ServiceError
    with pytest.raises(ServiceError) as err:
        move_to_stage(lead, stage, sales["south_broker"], values={"interest_level": "high"})
    assert "scheduled_at" in err.value.errors
    when = utcnow() + timedelta(days=2)
    move_to_stage(lead, stage, sales["south_broker"], values={"interest_level": "high", "scheduled_at": when})
    assert lead.next_scheduled_at == when
    assert db.session.execute(select(Schedule)).scalar_one().owner_id == sales["south_broker"].id


def test_atender_pendentes_order_and_next_after_contact(sales):
    south = sales["south_broker"]
    with time_machine.travel(at("2026-03-02 09:00"), tick=False):
        leads = [new_lead(i) for i in range(0, 8, 2)]  # even numbers all go to the south broker first
    mine = [lead for lead in leads if lead.owner_id == south.id]
    assert len(mine) == 2
    older, newer = mine
    with time_machine.travel(at("2026-03-02 09:10"), tick=False):
        log_contact(older, "call", "primeiro contato", south)
        add_schedule(older, south, "call", at("2026-03-02 10:00"), "retornar")
        db.session.commit()
    with time_machine.travel(at("2026-03-02 10:30"), tick=False):
        lead, reason = pending.next_lead(south)
        assert (lead.id, reason) == (older.id, "overdue")
        lead, reason = pending.done_and_next(older, south, "call", "retornei")
        assert (lead.id, reason) == (newer.id, "new")
        db.session.commit()
    with time_machine.travel(at("2026-03-06 10:30"), tick=False):
        log_contact(newer, "call", "ok", south)
        lead, reason = pending.next_lead(south)
        assert (lead.id, reason) == (older.id, "stale")


def test_two_reps_pressing_at_once_get_different_waiting_leads(app, sales):
    queue = sales["queue"]
    queue.mode = "online"
    db.session.commit()
    first, second = new_lead(1), new_lead(2)  # nobody online: both wait in the queue
    assert first.owner_id is None and second.owner_id is None
    reps = sales["brokers"]
    results = {}
    barrier = threading.Barrier(2)

    def press(user_id):
        with app.app_context():
            from portal.accounts.models import User
            user = db.session.get(User, user_id)
            if USING_POSTGRES:
                barrier.wait()
            lead, reason = pending.next_lead(user)
            db.session.commit()
            results[user_id] = (lead.id if lead else None, reason)
            db.session.remove()

    if USING_POSTGRES:
        threads = [threading.Thread(target=press, args=(u.id,)) for u in reps]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:  # one writer at a time on SQLite: the second press sees the first one's lease
        for u in reps:
            press(u.id)
    got = [r[0] for r in results.values()]
    assert sorted(got) == sorted([first.id, second.id]) and all(r[1] == "waiting" for r in results.values())
    db.session.expire_all()
    owners = {db.session.get(Lead, i).owner_id for i in got}
    assert owners == {u.id for u in reps}
