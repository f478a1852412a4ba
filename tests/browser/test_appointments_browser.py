"""Appointments in a real Chromium at 375 px and desktop: the buyer books from the unit page and sees the next
appointment; staff see it on the week agenda and their availability page. Saves screenshots."""
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.services import appointments as service
from portal.personalize.services.common import local_tz
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.personalize.world import build_world

pytestmark = BROWSER


def test_buyer_books_an_appointment_and_staff_see_it_on_the_agenda(page):
    w = build_world(utcnow())
    start = datetime.now(local_tz()).date() + timedelta(days=2)
    service.create_slots(w["dev"], {"date_from": start.isoformat(), "date_to": (start + timedelta(days=4)).isoformat(),
                                    "weekdays": [str(d) for d in range(7)], "times": "09:00, 10:30, 14:00, 15:30",
                                    "duration": "60", "capacity": "2", "place": "Stand de vendas — Rua das Flores, 10",
                                    "video_url": "https://meet.exemplo.com/sala"})
    db.session.commit()

    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    page.get_by_role("link", name="Agendar atendimento").click()
    expect(page.get_by_role("heading", name="Atendimento agendado")).to_be_visible()
    page.shot("ap-buyer-slots")
    page.locator(".ap-time").nth(1).click()
    page.get_by_role("button", name="Agendar atendimento").click()
    expect(page.get_by_text("Seu próximo atendimento")).to_be_visible()
    expect(page.locator(".ap-when")).to_contain_text("10:30–11:30")
    page.shot("ap-buyer-booked")
    page.get_by_role("link", name="← Minha unidade").click()
    expect(page.locator("#atendimento")).to_contain_text("Próximo atendimento")
    page.shot("ap-unit-page")

    page.context.clear_cookies()
    log_in(page, w["staff"].email)
    page.goto(f"/personalizacao/agenda?visao=semana&data={start.isoformat()}")
    expect(page.get_by_role("heading", name="Agenda de atendimentos")).to_be_visible()
    expect(page.get_by_text("Ana Compradora")).to_be_visible()
    page.shot("ap-staff-agenda-week")
    page.goto(f"/personalizacao/empreendimentos/{w['dev'].id}/atendimentos")
    expect(page.get_by_role("heading", name="Publicar horários")).to_be_visible()
    page.shot("ap-staff-availability")
