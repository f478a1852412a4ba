"""Buyer questions and the satisfaction survey in a real Chromium at 375 px and desktop: the buyer asks with a
PDF attached (and sees a bad file refused), staff answer from their inbox, a buyer answers the survey."""
import re

from playwright.sync_api import expect

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.services import surveys
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.personalize.test_survey import signed_envelope
from tests.personalize.world import build_world
from tests.security.test_uploads import pdf

pytestmark = BROWSER
PDF = pdf()  # a real one: uploads are decoded (portal.uploads)


def test_buyer_asks_and_staff_answer(page):
    w = build_world(utcnow())
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    page.get_by_role("link", name=re.compile("Tem alguma dúvida")).click()
    expect(page.get_by_role("heading", name="Dúvidas sobre a unidade")).to_be_visible()
    page.get_by_label("Assunto").fill("Posso trocar a bancada depois de enviar?")
    page.get_by_label("Mensagem").fill("Olá! Queria saber se ainda dá para trocar a bancada da cozinha.")
    page.set_input_files("#attachments", files=[{"name": "programa.png", "mimeType": "image/png",
                                                 "buffer": b"MZ\x90\x00not an image"}])
    page.get_by_role("button", name="Enviar dúvida").click()
    expect(page.get_by_text("não é PDF, JPEG ou PNG")).to_be_visible()
    page.shot("qa-buyer-bad-file")
    page.set_input_files("#attachments", files=[{"name": "planta-cozinha.pdf", "mimeType": "application/pdf",
                                                 "buffer": PDF}])
    page.get_by_role("button", name="Enviar dúvida").click()
    expect(page.get_by_role("heading", name="Posso trocar a bancada depois de enviar?")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("planta-cozinha.pdf"))).to_be_visible()
    page.shot("qa-buyer-thread")

    page.context.clear_cookies()
    log_in(page, w["staff"].email)
    page.goto("/personalizacao/duvidas")
    expect(page.get_by_role("heading", name="Dúvidas dos compradores")).to_be_visible()
    page.shot("qa-staff-inbox")
    page.get_by_role("link", name=re.compile("Posso trocar a bancada")).click()
    page.get_by_label("Mensagem").fill("Oi, Ana! Pode sim, enquanto a janela estiver aberta. É só nos avisar.")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_text("Resposta enviada ao comprador.")).to_be_visible()
    expect(page.locator(".qa-msg.qa-staff")).to_contain_text("Pode sim")
    page.shot("qa-staff-thread")


def test_buyer_answers_the_survey(page):
    w = build_world(utcnow())
    envelope = signed_envelope(w["units"][0], w["a"], w["staff"])
    path = surveys.link_for_envelope(envelope).replace("http://localhost", "")
    db.session.commit()
    page.goto(path)
    expect(page.get_by_role("heading", name="Como foi a sua experiência?")).to_be_visible()
    page.shot("survey-form")
    page.locator(".survey-choice").nth(3).click()
    page.get_by_label(re.compile("Quer contar algo mais")).fill("Tudo muito claro, equipe atenciosa.")
    page.shot("survey-chosen")
    page.get_by_role("button", name="Enviar resposta").click()
    expect(page.get_by_role("heading", name="Obrigado!")).to_be_visible()
    page.shot("survey-done")
