"""Time rules, schedules, the calendar and the periodic sweep — with frozen time."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select

from portal import jobs
from portal.automation import engine
from portal.automation.calendar import BusinessCalendar
from portal.automation.events import publish
from portal.automation.models import Delivery, DueItem, Event, Holiday
from portal.automation.rules import save_rule
from portal.automation.timeline import timeline
from portal.extensions import db
from tests.factories import make_user

SP = ZoneInfo("America/Sao_Paulo")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def sms_rule(**kw):
    data = {"name": "Lembrete", "active": True, "trigger": "time", "subject_type": "user",
            "date_field": "created_at", "offset_amount": 1, "offset_unit": "days", "direction": "after",
            "quiet_hours": False, "actions": [{"type": "message", "channel": "email", "to": "contact",
                                               "subject": "Lembrete", "body": "Olá {{ contato.nome }}"}], **kw}
    rule = save_rule(data)
    db.session.commit()
    return rule


def deliveries():
    return db.session.scalar(select(func.count(Delivery.id)))


def test_time_rule_fires_once_when_due_and_only_then(run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        user = make_user("broker")
        sms_rule()
        run_jobs()  # the backfill job creates the due item for the existing user
        item = db.session.execute(select(DueItem)).scalar_one()
        assert item.due_at == at("2026-03-03 10:00")
    assert engine.sweep_due(at("2026-03-03 09:59")) == 0
    assert engine.sweep_due(at("2026-03-03 10:00")) == 1
    assert deliveries() == 1
    assert engine.sweep_due(at("2026-03-04 10:00")) == 0  # done: never again for the same date
    assert deliveries() == 1
    assert user.id == item.subject_id


def test_recurring_rule_keeps_its_rhythm_and_a_long_outage_fires_once(run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        make_user("csm")
        sms_rule(repeat_every_days=45, offset_amount=45)
        run_jobs()
    engine.sweep_due(at("2026-04-16 10:00"))
    assert deliveries() == 1
    engine.sweep_due(at("2026-09-01 10:00"))  # worker down for months: one message, not three
    assert deliveries() == 2
    item = db.session.execute(select(DueItem)).scalar_one()
    assert item.done_at is None and item.due_at > at("2026-09-01 10:00") and item.fired == 2


def test_business_hours_offset_skips_weekend_and_holiday():
    cal = BusinessCalendar(tz=SP)
    # Thursday 19/11/2026 17:30 + 60 business minutes: 30 min Thursday, Friday 20/11 is a national
    # holiday (Consciência Negra), weekend, so it ends Monday 23/11 08:30.
    assert cal.add_business_minutes(at("2026-11-19 17:30"), 60) == at("2026-11-23 08:30")
    assert cal.holiday_name(datetime(2026, 11, 20).date())
    assert cal.business_minutes_between(at("2026-11-19 17:30"), at("2026-11-23 08:30")) == 60
    custom = BusinessCalendar(tz=SP, custom={datetime(2026, 11, 23).date(): "Aniversário da empresa"})
    assert custom.add_business_minutes(at("2026-11-19 17:30"), 60) == at("2026-11-24 08:30")


def test_quiet_hours_push_sms_to_the_morning(app, run_jobs):
    cal = BusinessCalendar(tz=SP)
    assert cal.after_quiet_hours(at("2026-05-05 23:30")) == at("2026-05-06 08:00")
    assert cal.after_quiet_hours(at("2026-05-05 07:00")) == at("2026-05-05 08:00")
    assert cal.after_quiet_hours(at("2026-05-05 12:00")) == at("2026-05-05 12:00")
    save_rule({"name": "SMS", "active": True, "trigger": "event", "subject_type": "user", "event_type": "user.created",
               "quiet_hours": True, "actions": [{"type": "message", "channel": "sms", "to": "contact", "body": "Oi"}]})
    db.session.commit()
    with time_machine.travel(at("2026-05-05 23:30"), tick=False):
        make_user("broker")
        run_jobs()
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.status == "queued" and delivery.not_before == at("2026-05-06 08:00")


def test_custom_holiday_comes_from_the_database(app):
    from portal.automation.calendar import get_calendar
    db.session.add(Holiday(day=datetime(2026, 12, 24).date(), name="Véspera de Natal"))
    db.session.commit()
    assert get_calendar().holiday_name(datetime(2026, 12, 24).date()) == "Véspera de Natal"


def test_scheduled_rule_runs_monday_8am_and_catches_up_once(run_jobs):
    with time_machine.travel(at("2026-03-04 12:00"), tick=False):  # a Wednesday
        rule = save_rule({"name": "Semanal", "active": True, "trigger": "schedule", "cron": "0 8 * * 1",
                          "actions": [{"type": "message", "channel": "email", "to": "fixed",
                                       "address": "lider@exemplo.com.br, diretoria@exemplo.com.br",
                                       "subject": "Resumo da semana", "body": "Bom dia! {{ empresa }}"}]})
        db.session.commit()
    assert rule.next_run_at == at("2026-03-09 08:00")
    assert engine.sweep_scheduled(at("2026-03-09 07:59")) == 0
    assert engine.sweep_scheduled(at("2026-03-09 08:00")) == 1
    assert engine.sweep_scheduled(at("2026-03-09 08:05")) == 0
    assert deliveries() == 2
    assert engine.sweep_scheduled(at("2026-03-31 10:00")) == 1  # three Mondays missed: one catch-up
    assert deliveries() == 4
    db.session.refresh(rule)
    assert rule.next_run_at == at("2026-04-06 08:00")


def test_sweep_requeues_an_event_whose_job_was_lost(app, run_jobs):
    user = make_user("broker")
    jobs.get_redis().flushdb()  # the process died after commit: the queue never got the job
    event = db.session.execute(select(Event).where(Event.subject_id == user.id)).scalar_one()
    run_jobs()
    assert db.session.get(Event, event.id).processed_at is None
    engine.requeue_stranded(datetime.now(timezone.utc) + timedelta(minutes=3))
    run_jobs()
    assert db.session.get(Event, event.id).processed_at is not None


def test_periodic_tick_enqueues_each_slot_once_across_workers(app):
    from portal.automation.jobs import sweep  # noqa: F401  (registers the periodic job)
    now = at("2026-03-02 10:00:30")
    assert "portal.automation.jobs.sweep" in jobs.schedule_tick(now)
    assert "portal.automation.jobs.sweep" not in jobs.schedule_tick(now)  # second worker, same minute
    assert "portal.automation.jobs.sweep" in jobs.schedule_tick(now + timedelta(minutes=1))


def test_weekly_cron_slot_after_downtime_is_the_latest_only(app):
    periodic = jobs.Periodic("weekly", print, cron="0 8 * * 1")
    slot = periodic.latest_slot(at("2026-03-31 10:00"), "America/Sao_Paulo")
    assert slot == at("2026-03-30 08:00")


def test_time_rule_follows_a_moved_date(run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        user = make_user("broker")
        sms_rule(date_field="last_login_at", offset_amount=2, offset_unit="hours")
        run_jobs()
        assert db.session.execute(select(DueItem)).scalar_one_or_none() is None  # no date yet
        user.last_login_at = at("2026-03-02 10:00")
        engine.schedule(user)
        db.session.commit()
    user.last_login_at = at("2026-03-02 11:00")  # logged in again: the clock restarts
    assert engine.sweep_due(at("2026-03-02 12:00")) == 1  # found due, but the date moved
    assert deliveries() == 0
    assert engine.sweep_due(at("2026-03-02 13:00")) == 1
    assert deliveries() == 1


def test_timeline_shows_events_and_messages(run_jobs):
    save_rule({"name": "Boas-vindas", "active": True, "trigger": "event", "subject_type": "user",
               "event_type": "user.created", "actions": [{"type": "message", "channel": "email", "to": "contact",
                                                          "subject": "Bem-vindo", "body": "Oi"}]})
    db.session.commit()
    user = make_user("broker")
    run_jobs()
    publish("user.deactivated", user)
    db.session.commit()
    entries = timeline("user", user.id)
    assert [e.kind for e in entries].count("event") == 2
    assert any(e.kind == "message" and e.body == "Bem-vindo" and e.status == "Enviada" for e in entries)
