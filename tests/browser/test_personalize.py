"""The buyer's journey on the one-page portal in a real Chromium: pick three options, watch the total,
review and submit. Runs at phone (375 px) and desktop width and saves screenshots."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.models import Selection
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.personalize.world import build_world

pytestmark = BROWSER


def radio(page, item, option):
    return page.locator(f"#item-{item.id}").get_by_role("radio", name=re.compile(option.name))


def test_buyer_picks_three_options_sees_the_total_and_submits(page):
    w = build_world(utcnow())
    items, o = w["items"], w["options"]
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)  # a busy CI box
    expect(page.get_by_role("heading", name="Olá, Ana")).to_be_visible()
    expect(page.get_by_text("Escolhas abertas até")).to_be_visible()
    total = page.locator("#pz-total")
    expect(total).to_have_text("R$ 0,00")
    expect(radio(page, items["sala"], o["ceramica"])).to_be_checked()  # the standard option, at no cost
    page.shot("pz-portal")

    radio(page, items["sala"], o["porcelanato"]).check()
    expect(total).to_have_text("R$ 1.000,00")
    expect(page.locator("#pz-saved")).to_have_text("Escolha salva")
    expect(page.locator("#pz-state")).to_have_text("Rascunho")
    radio(page, items["torneira"], o["gourmet"]).check()
    expect(total).to_have_text("R$ 1.689,00")
    radio(page, items["bancada"], o["quartzo"]).check()
    expect(total).to_have_text("R$ 4.589,00")
    expect(page.locator(f"#item-{items['bancada'].id} .pz-option.is-chosen")).to_contain_text("Quartzo branco")
    page.shot("pz-portal-chosen")

    page.reload()  # every choice was saved as it was made
    expect(total).to_have_text("R$ 4.589,00")
    expect(radio(page, items["torneira"], o["gourmet"])).to_be_checked()

    page.get_by_role("button", name="Revisar e enviar").click()
    expect(page.get_by_role("heading", name="Confira antes de enviar")).to_be_visible()
    expect(page.locator("#review-total")).to_have_text("R$ 4.589,00")
    for name in ("Porcelanato 90x90", "Torneira gourmet", "Quartzo branco"):
        expect(page.locator(".pz-review-list").get_by_text(name, exact=True)).to_be_visible()
    page.shot("pz-review")
    page.get_by_role("button", name="Confirmar e enviar").click()

    expect(page.locator(".flash-success")).to_contain_text("Personalização enviada!")
    expect(page.locator("#pz-status")).to_contain_text("Personalização enviada")
    expect(radio(page, items["sala"], o["vinilico"])).to_be_disabled()
    expect(page.get_by_role("button", name="Revisar e enviar")).to_have_count(0)
    page.shot("pz-submitted")
    db.session.expire_all()
    selection = db.session.execute(select(Selection).where(Selection.unit_id == w["units"][0].id)).scalar_one()
    assert selection.status == "submitted" and selection.total_cents == 458900
