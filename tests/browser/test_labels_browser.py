"""The rule editor's placeholder picker in a real Chromium at 375 px and desktop: "Inserir" puts {{ campo }} where
the admin was typing, and the saved rule renders it; the Réguas list then reads as labels."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.automation.models import Rule
from portal.extensions import db
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.factories import make_user

pytestmark = BROWSER


def test_the_placeholder_picker_inserts_where_the_admin_types(page):
    admin = make_user("admin", name="Ana Admin")
    db.session.commit()
    log_in(page, admin.email)
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/automacao/regras/nova?subject_type=lead&trigger=event&event_type=lead.scheduled")
    page.get_by_label("Nome da régua").fill("Visita agendada")
    page.locator("#actions-0-type").select_option("notify")
    page.locator("#actions-0-to").select_option("owner")
    page.locator("#actions-0-subject").fill("Nova visita")
    body = page.locator("#actions-0-body")
    body.fill("Olá , sua visita é em .")
    body.evaluate("el => el.setSelectionRange(4, 4)")            # the caret after "Olá "
    page.get_by_role("button", name="Inserir Responsável: nome").click()
    expect(body).to_have_value("Olá {{ responsavel.nome }}, sua visita é em .")
    body.evaluate("el => el.setSelectionRange(el.value.length - 1, el.value.length - 1)")
    page.get_by_role("button", name="Inserir Evento: Data agendada").click()
    expect(body).to_have_value("Olá {{ responsavel.nome }}, sua visita é em {{ evento.at }}.")
    expect(page.get_by_role("status")).to_contain_text("{{ evento.at }} inserido")
    page.shot("rule-editor-placeholders")
    page.get_by_role("button", name="Salvar régua").click()
    expect(page.get_by_role("heading", name="Réguas de comunicação")).to_be_visible()
    rule = db.session.execute(select(Rule).where(Rule.name == "Visita agendada")).scalar_one()
    assert rule.actions[0]["body"] == "Olá {{ responsavel.nome }}, sua visita é em {{ evento.at }}."
    row = page.locator("tr", has=page.get_by_role("link", name="Visita agendada"))
    expect(row).to_contain_text("Quando: Agendamento registrado (retorno, visita ou reunião)")
    expect(row).not_to_contain_text("lead.scheduled")
    page.shot("rules-list")
