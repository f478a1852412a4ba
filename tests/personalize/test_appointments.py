"""Appointments (atendimento agendado): staff publish slots, buyers book / reschedule / cancel one seat per unit,
the database holds capacity under concurrency, rules send the confirmation (.ics attached) and the reminder."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.accounts.models import User
from portal.automation import engine
from portal.automation.models import Delivery, Event
from portal.extensions import db
from portal.personalize import default_rules
from portal.personalize.appointments import Appointment, AppointmentSlot
from portal.personalize.services import appointments as service
from portal.personalize.services.appointment_messages import ensure_default_rules, ics_text
from portal.errors import ServiceError
from portal.realestate.models import Unit
from tests.conftest import USING_POSTGRES
from tests.factories import give_unit, make_development, make_user
from tests.personalize.conftest import NOW

TZ_OFFSET = timedelta(hours=3)  # São Paulo is UTC-3 (no daylight saving time since 2019)


def slots(dev, day: int, times="10:00", capacity=2, **extra):
    """Slots `day` days after NOW (local date), created through the service like the form does."""
    local_day = (NOW - TZ_OFFSET).date() + timedelta(days=day)
    created, _ = service.create_slots(dev, {"date_from": local_day.isoformat(), "date_to": local_day.isoformat(),
                                            "weekdays": [str(local_day.weekday())], "times": times,
                                            "duration": "60", "capacity": str(capacity),
                                            "place": "Stand de vendas, sala 2", **extra})
    db.session.commit()
    return created


def events(kind):
    return db.session.scalar(select(func.count(Event.id)).where(Event.type == kind))


def url(unit, suffix=""):
    return f"/personalizacao/unidades/{unit.id}/atendimento{suffix}"


# ---- staff publish availability --------------------------------------------------------------------------

def test_staff_publish_many_slots_at_once_and_posting_again_adds_none(world, client, login_as):
    dev = world["dev"]
    login_as(world["staff"])
    form = {"date_from": "2026-03-09", "date_to": "2026-03-15", "weekdays": ["0", "2", "4"],
            "times": "09:00, 14:30", "duration": "45", "capacity": "3", "place": "Stand de vendas", "video_url": ""}
    response = client.post(f"/personalizacao/empreendimentos/{dev.id}/atendimentos", data=form)
    assert response.status_code == 302
    rows = db.session.execute(select(AppointmentSlot).order_by(AppointmentSlot.starts_at)).scalars().all()
    assert len(rows) == 6  # Mon, Wed, Fri × 2 times
    assert rows[0].starts_at == datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)  # 09:00 in São Paulo
    assert rows[0].ends_at - rows[0].starts_at == timedelta(minutes=45) and rows[0].capacity == 3
    client.post(f"/personalizacao/empreendimentos/{dev.id}/atendimentos", data=form)
    assert db.session.scalar(select(func.count(AppointmentSlot.id))) == 6
    # the default rules were seeded with the first slots, once
    assert set(db.session.execute(select(default_rules.PersonalizeDefaultRule.key)).scalars()) >= {
        "appointment.booked", "appointment.rescheduled", "appointment.cancelled", "appointment.reminder"}
    bad = client.post(f"/personalizacao/empreendimentos/{dev.id}/atendimentos",
                      data={**form, "weekdays": [], "times": "25:00", "capacity": "0", "place": ""})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    for message in ("Marque ao menos um dia da semana.", "Horário inválido", "as vagas por horário entre 1 e 200",
                    "Informe o local do atendimento ou um link de vídeo."):
        assert message in page
    assert db.session.scalar(select(func.count(AppointmentSlot.id))) == 6


def test_staff_edit_a_slot_but_never_below_its_bookings_and_cancelling_it_cancels_its_appointments(world, client,
                                                                                                     login_as):
    dev, a = world["dev"], world["a"]
    slot = slots(dev, 3, capacity=2)[0]
    service.book(world["units"][0], slot.id, a)
    db.session.commit()
    login_as(world["staff"])
    base = f"/personalizacao/empreendimentos/{dev.id}/atendimentos/horarios/{slot.id}"
    form = {"date": "2026-03-05", "start": "11:00", "end": "12:00", "capacity": "0", "place": "Stand", "video_url": ""}
    assert client.post(base, data=form).status_code == 422
    form["capacity"] = "1"
    assert client.post(base, data=form).status_code == 302
    db.session.expire_all()
    slot = db.session.get(AppointmentSlot, slot.id)
    assert slot.capacity == 1 and slot.starts_at == datetime(2026, 3, 5, 14, 0, tzinfo=timezone.utc)
    assert events("appointment.rescheduled") == 1  # the buyer is told the new time
    assert client.post(f"{base}/cancelar", data={"reason": ""}).status_code == 302  # refused: reason required
    assert db.session.get(AppointmentSlot, slot.id).cancelled_at is None
    client.post(f"{base}/cancelar", data={"reason": "Stand fechado"})
    db.session.expire_all()
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.status == "cancelled" and "Stand fechado" in appointment.cancel_reason
    assert db.session.get(AppointmentSlot, slot.id).booked == 0 and events("appointment.cancelled") == 1


def test_cutoff_hours_are_a_development_setting(world, client, login_as):
    login_as(world["staff"])
    dev = world["dev"]
    assert service.cutoff_hours(dev.id) == 24
    response = client.post(f"/personalizacao/empreendimentos/{dev.id}/atendimentos/config", data={"cutoff_hours": "x"})
    assert response.status_code == 422 and "entre 0 e 720" in response.get_data(as_text=True)
    client.post(f"/personalizacao/empreendimentos/{dev.id}/atendimentos/config", data={"cutoff_hours": "48"})
    assert service.cutoff_hours(dev.id) == 48


# ---- buyers book, reschedule, cancel ------------------------------------------------------------------------

def test_buyer_books_a_slot_and_the_portal_shows_the_next_appointment(world, client, login_as):
    unit = world["units"][0]
    slot = slots(world["dev"], 2, times="14:00")[0]
    login_as(world["a"])
    page = client.get(url(unit)).get_data(as_text=True)
    assert "Horários disponíveis" in page and "14:00–15:00" in page and "2 vagas" in page
    response = client.post(url(unit), data={"slot_id": slot.id})
    assert response.status_code == 302
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert (appointment.unit_id, appointment.status, appointment.booked_by_id) == (unit.id, "booked", world["a"].id)
    assert db.session.get(AppointmentSlot, slot.id).booked == 1
    assert events("appointment.booked") == 1
    portal = client.get(f"/personalizacao/unidades/{unit.id}").get_data(as_text=True)
    assert "Próximo atendimento" in portal and "quarta-feira, 04/03 · 14:00–15:00" in portal.lower()
    again = client.post(url(unit), data={"slot_id": slots(world["dev"], 3)[0].id})  # the form reschedules now
    assert again.status_code == 302 and events("appointment.rescheduled") == 1


def test_one_active_appointment_per_unit_is_held_by_the_database(world):
    unit, a = world["units"][0], world["a"]
    first, second = slots(world["dev"], 2, times="09:00, 11:00")
    service.book(unit, first.id, a)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        service.book(unit, second.id, a)
    assert refused.value.errors["slot"] == service.ALREADY_BOOKED
    db.session.rollback()
    with pytest.raises(IntegrityError):  # even past the service's check
        with db.session.begin_nested():
            db.session.add(Appointment(unit_id=unit.id, development_id=unit.development_id, slot_id=second.id,
                                       status="booked"))
    db.session.rollback()
    assert db.session.get(AppointmentSlot, second.id).booked == 0


def test_cutoff_is_enforced_on_the_server_with_a_clear_message(world, client, login_as):
    unit, dev = world["units"][0], world["dev"]
    soon = slots(dev, 1, times="09:00")[0]  # tomorrow 09:00 = 20 h from now, inside the 24 h cut-off
    login_as(world["a"])
    assert f'value="{soon.id}"' not in client.get(url(unit)).get_data(as_text=True)
    response = client.post(url(unit), data={"slot_id": soon.id})
    assert response.status_code == 409
    assert "pelo menos 24 horas de antecedência" in response.get_data(as_text=True)
    assert db.session.get(AppointmentSlot, soon.id).booked == 0
    service.save_settings(dev, {"cutoff_hours": "12"})
    db.session.commit()
    assert client.post(url(unit), data={"slot_id": soon.id}).status_code == 302
    # back to 24 h: now inside the cut-off, the buyer can no longer cancel or move it — staff still can
    service.save_settings(dev, {"cutoff_hours": "24"})
    db.session.commit()
    later = slots(dev, 4)[0]
    response = client.post(url(unit, "/cancelar"))
    assert response.status_code == 409 and "24 horas" in response.get_data(as_text=True)
    assert client.post(url(unit), data={"slot_id": later.id}).status_code == 409
    assert db.session.execute(select(Appointment)).scalar_one().status == "booked"
    client.post("/logout")
    login_as(world["staff"])
    assert client.post(url(unit, "/cancelar"), data={"reason": "Pedido por telefone"}).status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(Appointment)).scalar_one().status == "cancelled"


def test_reschedule_frees_the_old_seat(world):
    unit, a, b = world["units"][0], world["a"], world["b"]
    first, second = slots(world["dev"], 3, times="09:00, 11:00", capacity=1)
    appointment = service.book(unit, first.id, a)
    db.session.commit()
    with pytest.raises(ServiceError) as full:
        service.book(world["units"][1], first.id, b)
    assert full.value.errors["slot"] == service.FULL
    db.session.rollback()
    service.reschedule(appointment, second.id, a)
    db.session.commit()
    db.session.expire_all()
    assert (db.session.get(AppointmentSlot, first.id).booked, db.session.get(AppointmentSlot, second.id).booked) == (0, 1)
    assert appointment.slot_id == second.id and appointment.sequence == 1
    service.book(world["units"][1], first.id, b)  # the freed seat is bookable again
    db.session.commit()
    assert db.session.get(AppointmentSlot, first.id).booked == 1
    with pytest.raises(ServiceError):  # the full slot refuses a move into it, and nothing moves
        service.reschedule(appointment, first.id, a)
    db.session.rollback()
    db.session.expire_all()
    assert appointment.slot_id == second.id and db.session.get(AppointmentSlot, second.id).booked == 1


def test_buyer_cancels_and_can_book_again(world, client, login_as):
    unit = world["units"][0]
    slot = slots(world["dev"], 3)[0]
    login_as(world["a"])
    client.post(url(unit), data={"slot_id": slot.id})
    assert client.post(url(unit, "/cancelar"), data={"reason": "Viagem"}).status_code == 302
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.status == "cancelled" and appointment.cancel_reason == "Viagem"
    assert appointment.starts_at is None  # no date: its reminder is dropped
    assert db.session.get(AppointmentSlot, slot.id).booked == 0 and events("appointment.cancelled") == 1
    assert client.post(url(unit), data={"slot_id": slot.id}).status_code == 302
    assert db.session.scalar(select(func.count(Appointment.id)).where(Appointment.status == "booked")) == 1


def test_another_buyers_unit_is_404(world, client, login_as):
    theirs = world["units"][1]
    slot = slots(world["dev"], 3)[0]
    appointment = service.book(theirs, slot.id, world["b"])
    db.session.commit()
    login_as(world["a"])
    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs), data={"slot_id": slot.id}).status_code == 404
    assert client.post(url(theirs, "/cancelar")).status_code == 404
    assert client.get(url(theirs, f"/{appointment.id}.ics")).status_code == 404
    assert client.get(url(world["units"][0], f"/{appointment.id}.ics")).status_code == 404
    assert client.get("/personalizacao/agenda").status_code in (302, 403, 404)
    assert db.session.get(Appointment, appointment.id).status == "booked"


# ---- staff agenda --------------------------------------------------------------------------------------------

def test_staff_agenda_by_day_and_week_is_scoped_and_marks_attendance(world, client, login_as, frozen):
    dev = world["dev"]
    other_staff = make_user("personalization", name="Otávio Outro")
    other = make_development("Parque das Águas", staff=[other_staff])
    other_buyer = make_user("customer", name="Olga Compradora")
    give_unit(other_buyer, other.towers[0].units[0])
    mine = slots(dev, 2, times="10:00")[0]
    theirs = slots(other, 2, times="11:00")[0]
    appointment = service.book(world["units"][0], mine.id, world["a"])
    foreign = service.book(other.towers[0].units[0], theirs.id, other_buyer)
    db.session.commit()
    login_as(world["staff"])
    week = client.get("/personalizacao/agenda?visao=semana&data=2026-03-04").get_data(as_text=True)
    assert dev.name in week and "Ana Compradora" in week
    assert "Parque das Águas" not in week and "Olga" not in week
    day = client.get("/personalizacao/agenda?data=2026-03-04").get_data(as_text=True)
    assert "10:00–11:00" in day and "11:00–12:00" not in day
    assert "Compareceu" not in day  # not started yet: nothing to mark
    assert client.get(f"/personalizacao/agenda?empreendimento={other.id}").status_code == 404
    assert client.get(f"/personalizacao/empreendimentos/{other.id}/atendimentos/horarios/{theirs.id}").status_code == 404
    assert client.post(f"/personalizacao/agenda/atendimentos/{foreign.id}/marcar",
                       data={"outcome": "attended"}).status_code == 404
    client.post(f"/personalizacao/agenda/atendimentos/{appointment.id}/marcar", data={"outcome": "attended"})
    assert db.session.get(Appointment, appointment.id).status == "booked"  # before the start: refused
    frozen.move_to(mine.starts_at + timedelta(minutes=5))
    assert "Compareceu" in client.get("/personalizacao/agenda?data=2026-03-04").get_data(as_text=True)
    client.post(f"/personalizacao/agenda/atendimentos/{appointment.id}/marcar", data={"outcome": "no_show"})
    client.post(f"/personalizacao/agenda/atendimentos/{appointment.id}/marcar", data={"outcome": "attended"})
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "attended"
    assert events("appointment.no_show") == 1 and events("appointment.attended") == 1
    assert db.session.get(Appointment, foreign.id).status == "booked"
    # every change is on the unit's appointment timeline
    history = client.get(url(world["units"][0])).get_data(as_text=True)
    for title in ("Atendimento agendado", "Comprador não compareceu ao atendimento",
                  "Comprador compareceu ao atendimento"):
        assert title in history


# ---- messages: confirmation with .ics, reminder ------------------------------------------------------------

def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_confirmation_email_carries_a_valid_ics(world, client, login_as, run_jobs, smtp_server):
    unit = world["units"][0]
    slot = slots(world["dev"], 2, times="14:00", place="Stand; Rua das Flores, 10")[0]
    run_jobs()
    login_as(world["a"])
    client.post(url(unit), data={"slot_id": slot.id})
    run_jobs()
    mails = [m["message"] for m in smtp_server.messages if "ana@exemplo.com.br" in m["to"]]
    assert [m["Subject"] for m in mails] == ["Atendimento agendado para 04/03/2026 14:00–15:00"]
    ics = [part for part in mails[0].iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(ics) == 1 and ics[0].get_filename() == "atendimento.ics"
    raw = ics[0].get_payload(decode=True)
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    lines = unfold(raw.decode())
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    props = dict(line.split(":", 1) for line in lines if ":" in line)
    assert props["VERSION"] == "2.0" and props["METHOD"] == "PUBLISH" and props["STATUS"] == "CONFIRMED"
    assert props["DTSTART"] == "20260304T170000Z" and props["DTEND"] == "20260304T180000Z"
    assert props["LOCATION"] == "Stand\\; Rua das Flores\\, 10"
    assert props["UID"].startswith("appointment-") and props["SEQUENCE"] == "0"
    assert "BEGIN:VEVENT" in lines and "END:VEVENT" in lines
    # the staff owner is told in the portal; the buyer's timeline lists the message
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.subject_type == "appointment")) == 1
    client.post(url(unit, "/cancelar"))
    run_jobs()
    cancel = [m["message"] for m in smtp_server.messages if m["message"]["Subject"] == "Atendimento cancelado"]
    assert len(cancel) == 1
    cancel_ics = next(p for p in cancel[0].iter_attachments() if p.get_content_type() == "text/calendar")
    assert b"METHOD:CANCEL" in cancel_ics.get_payload(decode=True)


def test_reminder_rule_fires_once_a_day_before(world, run_jobs, frozen):
    unit = world["units"][0]
    slot = slots(world["dev"], 3, times="10:00")[0]  # 05/03 13:00 UTC
    run_jobs()  # backfill of the seeded time rule
    service.book(unit, slot.id, world["a"])
    db.session.commit()
    run_jobs()
    reminder = default_rules.rule_for("appointment.reminder")

    def reminders():
        return db.session.scalar(select(func.count(Delivery.id)).where(Delivery.rule_id == reminder.id))

    frozen.move_to(slot.starts_at - timedelta(days=1, minutes=1))
    engine.sweep_due()
    assert reminders() == 0
    frozen.move_to(slot.starts_at - timedelta(days=1))
    engine.sweep_due()
    run_jobs()
    assert reminders() == 1
    mail = db.session.execute(select(Delivery).where(Delivery.rule_id == reminder.id)).scalar_one()
    assert mail.recipient == "ana@exemplo.com.br" and "amanhã, 05/03/2026 10:00–11:00" in mail.body
    frozen.move_to(slot.starts_at - timedelta(hours=2))
    engine.sweep_due()
    run_jobs()
    assert reminders() == 1


def test_a_cancelled_appointment_gets_no_reminder(world, run_jobs, frozen):
    slot = slots(world["dev"], 3)[0]
    run_jobs()
    appointment = service.book(world["units"][0], slot.id, world["a"])
    db.session.commit()
    service.cancel(appointment, world["a"])
    db.session.commit()
    run_jobs()
    frozen.move_to(slot.starts_at - timedelta(hours=12))
    engine.sweep_due()
    run_jobs()
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.subject.like("Lembrete%"))) == 0


def test_ics_escapes_text_and_folds_long_lines(world):
    slot = slots(world["dev"], 3, place="Sala “Ipê”, 2º andar; bloco B \\ fundos " + "x" * 120)[0]
    appointment = service.book(world["units"][0], slot.id, world["a"])
    db.session.commit()
    text = ics_text(appointment)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    location = next(line for line in unfold(text) if line.startswith("LOCATION:"))
    assert location.startswith("LOCATION:Sala “Ipê”\\, 2º andar\\; bloco B \\\\ fundos xxx")
    assert ensure_default_rules() == []  # seeded with the slots already


# ---- capacity under concurrency ----------------------------------------------------------------------------

def test_ten_concurrent_bookings_for_three_seats_book_exactly_three(app, frozen):
    staff = make_user("personalization")
    dev = make_development("Residencial Concorrido", units_per_tower=10, staff=[staff])
    units = sorted(dev.towers[0].units, key=lambda u: u.number)
    buyers = []
    for unit in units:
        buyer = make_user("customer")
        give_unit(buyer, unit)
        buyers.append(buyer.id)
    slot = slots(dev, 3, capacity=3)[0]
    pairs = [(u.id, b) for u, b in zip(units, buyers)]
    slot_id = slot.id
    barrier, outcomes, errors = threading.Barrier(len(pairs)), [], []

    def work(unit_id, user_id):
        with app.app_context():
            try:
                barrier.wait()
                for _ in range(500):  # SQLite: a writer that finds the file locked (deadlock: no wait) retries
                    try:
                        service.book(db.session.get(Unit, unit_id), slot_id, db.session.get(User, user_id))
                        db.session.commit()
                        outcomes.append("booked")
                        return
                    except ServiceError as exc:
                        db.session.rollback()
                        outcomes.append(exc.errors["slot"])
                        return
                    except OperationalError:
                        db.session.rollback()
                errors.append("gave up")
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == sorted(["booked"] * 3 + [service.FULL] * 7)
    db.session.expire_all()
    assert db.session.get(AppointmentSlot, slot_id).booked == 3
    assert db.session.scalar(select(func.count(Appointment.id)).where(Appointment.slot_id == slot_id)) == 3
    if USING_POSTGRES:
        assert db.engine.dialect.name == "postgresql"


# ---- review: hot paths and redirects -------------------------------------------------------------------------

class _Queries:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def _count_queries(fn):
    """How many SQL statements fn() runs (the response must be a page, not a redirect or an error)."""
    from sqlalchemy import event
    counter = _Queries()
    engine_ = db.engine
    event.listen(engine_, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine_, "before_cursor_execute", counter)
    return counter.count


def _ok(response):
    assert response.status_code == 200


def _book_many(world, dev, slot, n):
    """n more buyers (each on their own unit of another tower) booked into `slot`."""
    units = sorted(dev.towers[1].units, key=lambda u: u.number)[:n]
    for unit in units:
        buyer = make_user("customer")
        give_unit(buyer, unit)
        service.book(unit, slot.id, buyer)
    db.session.commit()


def test_agenda_and_slot_page_queries_do_not_grow_with_the_bookings(world, client, login_as):
    dev = world["dev"]
    slot = slots(dev, 2, times="10:00", capacity=5)[0]
    login_as(world["staff"])
    pages = ("/personalizacao/agenda?data=2026-03-04",
             f"/personalizacao/empreendimentos/{dev.id}/atendimentos/horarios/{slot.id}")
    _book_many(world, dev, slot, 1)
    db.session.expire_all()
    few = [_count_queries(lambda p=p: _ok(client.get(p))) for p in pages]
    _book_many_more = sorted(dev.towers[1].units, key=lambda u: u.number)[1:3]
    for unit in _book_many_more:
        buyer = make_user("customer")
        give_unit(buyer, unit)
        service.book(unit, slot.id, buyer)
    db.session.commit()
    db.session.expire_all()
    many = [_count_queries(lambda p=p: _ok(client.get(p))) for p in pages]
    assert many == few  # 1 vs 3 appointments: no query per unit (tower, buyers)


def test_mark_attendance_does_not_redirect_off_site(world, client, login_as, frozen):
    dev = world["dev"]
    slot = slots(dev, 2, times="10:00")[0]
    appointment = service.book(world["units"][0], slot.id, world["a"])
    db.session.commit()
    login_as(world["staff"])
    frozen.move_to(slot.starts_at + timedelta(minutes=5))
    for bad in ("//evil.example", "https://evil.example/", "/\t/evil.example", "/\r\n/evil.example"):
        response = client.post(f"/personalizacao/agenda/atendimentos/{appointment.id}/marcar",
                               data={"outcome": "attended", "next": bad})
        assert response.status_code == 302
        location = "".join(ch for ch in response.headers["Location"] if ch not in "\t\r\n")  # as browsers read it
        assert not location.startswith("//") and "://" not in location, bad


def test_a_malformed_slot_id_is_a_field_error_not_a_crash(world, client, login_as):
    slots(world["dev"], 2, times="10:00")
    login_as(world["a"])
    for bad in ("²", "x", "", "-1"):
        response = client.post(url(world["units"][0]), data={"slot_id": bad})
        assert response.status_code in (409, 422), bad
    assert db.session.scalar(select(func.count(Appointment.id))) == 0
