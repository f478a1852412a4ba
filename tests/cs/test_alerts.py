"""The seed's alerts run as default automation rules: each fires once per condition per period — never
again on the next sweep or the next nightly recompute — lands in the CSM's work list as a task and goes to
them by e-mail; a leader can tune them."""
from datetime import date, timedelta

import time_machine
from sqlalchemy import func, select

from portal.automation import engine
from portal.automation.models import Delivery, Rule, Task
from portal.cs.models import Account, AlertRule
from portal.cs.services import alerts, health, journey, usage
from portal.cs.services.risk import set_risk_flag
from portal.extensions import db
from tests.cs.conftest import at, make_account


def seed_rules(run_jobs):
    created = alerts.ensure_default_rules()
    db.session.commit()
    run_jobs()  # backfills of the new time rules
    return created


def tasks(account, title_part=""):
    return db.session.execute(select(Task).where(Task.subject_type == "account", Task.subject_id == account.id,
                                                 Task.title.contains(title_part)).order_by(Task.id)).scalars().all()


def emails(user):
    return db.session.scalar(select(func.count(Delivery.id)).where(Delivery.channel == "email",
                                                                   Delivery.recipient == user.email))


def test_default_rules_are_seeded_once(app, run_jobs):
    created = seed_rules(run_jobs)
    assert len(created) == len(alerts.ALERTS) == 13
    assert alerts.ensure_default_rules() == []
    assert db.session.scalar(select(func.count(Rule.id))) == 13
    assert db.session.scalar(select(func.count(AlertRule.key))) == 13


def test_follow_up_alert_fires_once_per_due_date_and_a_touchpoint_settles_it(cs_team, run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        seed_rules(run_jobs)
        account = make_account(cs_team["caio"], name="Transportadora Rota Sul")  # ME/PME onboarding: 15 days
        assert account.next_follow_up_at == at("2026-03-17 09:00")
    engine.sweep_due(at("2026-03-17 08:59"))
    assert tasks(account, "Follow-up") == []  # not yet due
    engine.sweep_due(at("2026-03-17 09:00"))
    for day in range(18, 25):  # a week of sweeps every day: no spam
        engine.sweep_due(at(f"2026-03-{day} 09:00"))
    follow = tasks(account, "Follow-up")
    assert len(follow) == 1 and follow[0].assignee_id == cs_team["caio"].id and follow[0].done_at is None
    assert emails(cs_team["caio"]) == 1

    with time_machine.travel(at("2026-03-25 15:00"), tick=False):
        account = db.session.get(Account, account.id)
        journey.log_touchpoint(account, {"kind": "call", "summary": "Treinamento agendado"}, cs_team["caio"])
        db.session.commit()
        assert account.next_follow_up_at == at("2026-04-09 09:00")
    assert tasks(account, "Follow-up")[0].done_at is not None  # settled by the contact
    engine.sweep_due(at("2026-04-09 09:00"))
    engine.sweep_due(at("2026-04-10 09:00"))
    assert len(tasks(account, "Follow-up")) == 2 and emails(cs_team["caio"]) == 2


def test_usage_down_fires_once_per_week_however_often_the_nightly_job_runs(cs_team, run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        seed_rules(run_jobs)
        account = make_account(cs_team["caio"], name="Distribuidora Pampa")
    engine.sweep_due(at("2026-03-02 10:01"))  # the sweep runs every minute: the weekly rules are now in rhythm
    rows = []
    for i in range(28):  # 100/day until Sunday 15/03, then 40/day (-60 % week over week)
        day = date(2026, 2, 23) + timedelta(days=i)
        rows.append({"cnpj": account.cnpj, "day": day.isoformat(), "feature": "aprovacao",
                     "count": 100 if day <= date(2026, 3, 8) else 40})
    with time_machine.travel(at("2026-03-22 02:00"), tick=False):
        usage.ingest(rows)
        db.session.commit()

    def night(text, day):
        """The 03:00 recompute, then the sweeps until morning (the weekly rules wait until 04:00 Monday)."""
        with time_machine.travel(at(text), tick=False):
            health.recompute(day)
            db.session.commit()
        for minutes in (1, 90, 300):
            engine.sweep_due(at(text) + timedelta(minutes=minutes))

    night("2026-03-09 03:00", date(2026, 3, 9))   # Monday: week 02–08/03 vs 23/02–01/03, flat
    assert tasks(account, "Uso em") == []
    night("2026-03-16 03:00", date(2026, 3, 16))  # Monday: week 09–15/03 vs 02–08/03
    assert db.session.get(Account, account.id).usage_wow_pct == -60
    night("2026-03-17 03:00", date(2026, 3, 17))  # same week: evaluated once already, nothing new
    night("2026-03-18 03:00", date(2026, 3, 18))
    assert len(tasks(account, "Uso em queda")) == 1
    night("2026-03-23 03:00", date(2026, 3, 23))  # next week: 16–22/03 vs 09–15/03 is flat (40 vs 40)
    assert db.session.get(Account, account.id).usage_wow_pct == 0
    assert len(tasks(account, "Uso em queda")) == 1
    assert tasks(account, "Uso em alta") == []


def test_churn_risk_fires_at_once_then_only_the_weekly_reminder(cs_team, run_jobs):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        seed_rules(run_jobs)
        account = make_account(cs_team["caio"], name="Editora Ponto Final")
        health.recompute()
        set_risk_flag(account, True, "Sem uso desde a troca de diretoria", cs_team["caio"])
        db.session.commit()
    for hour in range(10, 24):  # every sweep of the day
        engine.sweep_due(at(f"2026-03-02 {hour}:30"))
    for day in range(3, 9):  # and the nightly recomputes of the week
        with time_machine.travel(at(f"2026-03-{day:02d} 03:00"), tick=False):
            health.recompute()
            db.session.commit()
        engine.sweep_due(at(f"2026-03-{day:02d} 03:01"))
    assert len(tasks(account, "Risco de churn")) == 1
    engine.sweep_due(at("2026-03-09 10:30"))  # a week later: the reminder
    assert len(tasks(account, "Risco de churn")) == 2
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        set_risk_flag(db.session.get(Account, account.id), False, "", cs_team["caio"])
        db.session.commit()
    engine.sweep_due(at("2026-03-30 10:00"))
    assert len(tasks(account, "Risco de churn")) == 2  # recovered: the reminders stop


def test_entered_adoption_runs_on_the_phase_event_once(cs_team, run_jobs):
    seed_rules(run_jobs)
    account = make_account(cs_team["caio"], name="Rede Farma Bem Estar")
    journey.change_phase(account, "adoption", cs_team["caio"])
    db.session.commit()
    run_jobs()
    run_jobs()
    assert [t.title for t in tasks(account, "Entrou em adoção")] == ["Entrou em adoção: Rede Farma Bem Estar"]
    assert len(tasks(account, "Mudou de fase")) == 1


def test_leader_tunes_threshold_and_email(cs_team, run_jobs):
    seed_rules(run_jobs)
    rule = alerts.tune("usage_down", {"active": "y", "threshold": "50"}, cs_team["leader"])
    db.session.commit()
    assert rule.conditions == [{"field": "usage_wow_pct", "op": "le", "value": "-50"}]
    assert [a["type"] for a in rule.actions] == ["task"]  # e-mail unticked
    view = next(a for a in alerts.alerts() if a.spec.key == "usage_down")
    assert view.values == {"threshold": 50} and view.email is False
    rule = alerts.tune("renewal_60", {"active": "", "email": "y", "offset": "45"}, cs_team["leader"])
    db.session.commit()
    assert (rule.active, rule.offset_minutes) == (False, -45 * 1440)
    try:
        alerts.tune("renewal_30", {"active": "y", "offset": "0"}, cs_team["leader"])
    except Exception as exc:  # ServiceError: the field's message
        assert exc.errors == {"offset": "Informe um número entre 1 e 365."}
    else:
        raise AssertionError("an offset of 0 days should be refused")
