"""Migration playbooks in a real Chromium, at phone and desktop width: a CS leader opens the plan of a legacy
product (accounts grouped by touch model), starts the migration of two selected accounts, moves one to the
next step on the board (htmx) and opens its migration page with the steps and prices."""
import re

from playwright.sync_api import expect

from portal.cs.services import accounts as account_services
from portal.cs.services import product_lifecycle
from portal.extensions import db
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.cs.conftest import new_cnpj
from tests.factories import make_team, make_user

pytestmark = BROWSER


def world():
    leader = make_user("cs_leader", name="Lívia Líder")
    team = make_team("Sucesso do Cliente", manager=leader)
    csm = make_user("csm", team=team, name="Caio CSM")
    new = account_services.save_product({"name": "Plataforma Data Trust"})
    old = account_services.save_product({"name": "Data Trust"})
    db.session.flush()
    product_lifecycle.save_lifecycle(old, {"legacy": "1", "successor_id": str(new.id)})
    product_lifecycle.save_component(new, {"name": "Score de Fraude", "price": "1,20"})
    for name, mrr, touch in (("Banco ABC", "5.000,00", "tech"), ("Financeira Alfa", "6.000,00", "tech"),
                             ("Banco Santander", "4.000,00", "tech"), ("Banco Pan", "200.000,00", "mid"),
                             ("Banco BMG", "90.000,00", "high")):
        account_services.create_account({"name": name, "cnpj": new_cnpj(), "mrr": mrr, "csm_id": csm.id,
                                         "product_ids": [old.id], "touch_model": touch}, leader)
    db.session.commit()
    return leader, old


def test_leader_starts_migrations_from_the_plan_and_moves_one_on_the_board(page):
    leader, product = world()
    log_in(page, leader.email)
    expect(page).to_have_url(re.compile(r"/sucesso/$"))
    page.goto(f"/sucesso/migracoes/produtos/{product.id}")
    tech = page.locator("#grupo-tech")
    expect(tech).to_contain_text("3 conta(s) · R$ 15.000,00")
    expect(page.locator("#grupo-mid")).to_contain_text("Banco Pan")
    page.shot("cs-playbook-plan")

    tech.get_by_label("Selecionar Banco ABC").check()
    tech.get_by_label("Selecionar Financeira Alfa").check()
    tech.get_by_role("button", name="Iniciar migração das selecionadas").click()
    expect(page.locator(".flash-success")).to_contain_text("2 migração(ões) iniciada(s)")
    expect(page.locator("#grupo-tech")).to_contain_text("Negociação")

    page.get_by_role("link", name="Quadro por etapa").click()
    card = page.locator(".cs-card", has_text="Banco ABC")
    expect(card).to_be_visible()
    card.get_by_role("button", name=re.compile("Concluir Negociação")).click()
    # htmx answers the board (status line); before htmx is ready the same form posts and the board reloads
    expect(page.get_by_text("Banco ABC: “Negociação” concluída")).to_be_visible()
    expect(page.locator('.cs-col[data-phase="swap"]')).to_contain_text("Banco ABC")
    page.shot("cs-playbook-board")

    page.locator('.cs-col[data-phase="swap"] .cs-card-name', has_text="Banco ABC").click()
    expect(page.locator("#etapa-negotiation")).to_contain_text("Lívia Líder")
    page.get_by_label("Notas").fill("Troca registrada; cliente avisado do novo ID de entidade.")
    page.get_by_role("button", name="Concluir “Troca de produto registrada”").click()
    expect(page.locator("#etapa-swap")).to_contain_text("Troca registrada; cliente avisado")
    page.get_by_label("Componente").fill("Score de Fraude")
    page.get_by_label("A conta já tinha").check()
    page.get_by_label("Preço no legado (R$)").fill("1,00")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # nothing sideways
    page.get_by_role("button", name="Registrar componente").click()
    expect(page.locator("#precos")).to_contain_text("R$ 1,00")
    expect(page.locator("#precos")).to_contain_text("R$ 1,20")
    page.shot("cs-playbook-migration")
