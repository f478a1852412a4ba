"""Windows feed the automation: opening/closing events once, and buyer reminders before the deadline."""
from datetime import timedelta

from sqlalchemy import func, select

from portal.automation import engine
from portal.automation.models import Delivery, DueItem, Event
from portal.automation.rules import save_rule
from portal.extensions import db
from portal.personalize import jobs
from portal.personalize.models import Selection
from portal.personalize.services import selections, windows
from tests.personalize.conftest import NOW, window_data


def events(kind):
    return db.session.scalar(select(func.count(Event.id)).where(Event.type == kind))


def reminder_rule():
    rule = save_rule({
        "name": "Faltam 3 dias", "active": True, "trigger": "time", "subject_type": "selection",
        "date_field": "window.closes_at", "offset_amount": 3, "offset_unit": "days", "direction": "before",
        "quiet_hours": False, "conditions": [{"field": "status", "op": "ne", "value": "submitted"}],
        "actions": [{"type": "message", "channel": "email", "to": "contact", "subject": "Faltam 3 dias",
                     "body": "Olá {{ contato.nome }}, o prazo da unidade {{ selection.unit.number }} termina em "
                             "{{ selection.deadline_label }}."}]})
    db.session.commit()
    return rule


def test_window_opened_and_closed_are_published_once_each(world, frozen):
    upcoming = windows.save_window(world["dev"], window_data(NOW + timedelta(days=2), NOW + timedelta(days=4),
                                                             name="2ª janela", tower_id=world["dev"].towers[1].id))
    db.session.commit()
    jobs.window_tick(NOW)
    assert events("window.opened") == 1  # the open one, once
    jobs.window_tick(NOW)
    assert events("window.opened") == 1
    jobs.window_tick(NOW + timedelta(days=2))
    jobs.window_tick(NOW + timedelta(days=2, minutes=1))
    assert events("window.opened") == 2 and events("window.closed") == 0
    jobs.window_tick(NOW + timedelta(days=10))
    assert events("window.closed") == 2
    # moving the deadline re-arms the closing notice
    frozen.move_to(NOW + timedelta(days=10))
    windows.save_window(world["dev"], window_data(NOW + timedelta(days=2), NOW + timedelta(days=12),
                                                  name="2ª janela", tower_id=world["dev"].towers[1].id), upcoming)
    db.session.commit()
    jobs.window_tick(NOW + timedelta(days=12))
    assert events("window.closed") == 3


def test_each_selection_follows_the_window_that_concerns_its_unit(world):
    dev, units = world["dev"], world["units"]
    tower_b_unit = sorted(dev.towers[1].units, key=lambda u: u.number)[0]
    specific = windows.save_window(dev, window_data(NOW - timedelta(hours=1), NOW + timedelta(days=3),
                                                    name="Torre B", tower_id=dev.towers[1].id))
    db.session.commit()
    selections.ensure_selection(tower_b_unit)
    jobs.refresh_development(dev.id, NOW)
    by_unit = dict(db.session.execute(select(Selection.unit_id, Selection.window_id)).all())
    assert by_unit[units[0].id] == world["window"].id  # Torre A: the development-wide window
    assert by_unit[tower_b_unit.id] == specific.id      # Torre B: its own, more specific window


def test_buyers_are_reminded_three_days_before_the_deadline(world, client, login_as, run_jobs, frozen):
    reminder_rule()
    run_jobs()  # the rule's backfill arms a due item per selection
    items = db.session.execute(select(DueItem)).scalars().all()
    assert len(items) == 2 and {i.due_at for i in items} == {NOW + timedelta(days=7)}
    login_as(world["b"])  # Bruno submits: no reminder for him
    client.post(f"/personalizacao/unidades/{world['units'][1].id}/enviar",
                data={"revision": selections.get_selection(world["units"][1]).revision})
    assert engine.sweep_due(NOW + timedelta(days=7) - timedelta(minutes=1)) == 0
    engine.sweep_due(NOW + timedelta(days=7))
    run_jobs()
    mails = db.session.execute(select(Delivery)).scalars().all()
    assert [(m.recipient, m.subject) for m in mails] == [("ana@exemplo.com.br", "Faltam 3 dias")]
    assert "termina em 12/03/2026 10:00" in mails[0].body


def test_a_new_deadline_moves_the_reminder(world, run_jobs, frozen):
    reminder_rule()
    run_jobs()
    windows.save_window(world["dev"], window_data(NOW - timedelta(days=1), NOW + timedelta(days=20)),
                        world["window"])
    db.session.commit()
    run_jobs()  # refresh_development re-arms the selections' time rules
    assert {i.due_at for i in db.session.execute(select(DueItem)).scalars()} == {NOW + timedelta(days=17)}
    assert engine.sweep_due(NOW + timedelta(days=7)) == 0
