"""CSM capacity in a real Chromium, at phone and desktop width: a CS leader opens the capacity page, sees Caio
over capacity, filters Caio's accounts, ticks two of them, hands them to Bia, and both loads change."""
import re

from playwright.sync_api import expect

from portal.cs.services.accounts import create_account
from portal.extensions import db
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.cs.conftest import new_cnpj
from tests.factories import make_team, make_user

pytestmark = BROWSER


def capacity_world():
    leader = make_user("cs_leader", name="Lívia Líder")
    team = make_team("Sucesso do Cliente", manager=leader)
    leader.team_id = team.id
    caio = make_user("csm", team=team, name="Caio CSM")
    bia = make_user("csm", team=team, name="Bia CSM")
    # 42 small clients for Caio (42/40 = 105 %), 2 for Bia (5 %)
    for i in range(42):
        create_account({"name": f"Padaria {i:02d} Ltda", "cnpj": new_cnpj(), "employees": 10, "mrr": "500,00",
                        "csm_id": caio.id}, leader)
    for name in ("Oficina Azul", "Oficina Verde"):
        create_account({"name": name, "cnpj": new_cnpj(), "employees": 10, "mrr": "500,00", "csm_id": bia.id}, leader)
    db.session.commit()
    return leader, caio, bia


def test_leader_reassigns_two_accounts_and_sees_the_loads_update(page):
    leader, caio, bia = capacity_world()
    log_in(page, leader.email)
    page.goto("/sucesso/capacidade")
    expect(page.get_by_role("heading", name="Capacidade dos CSMs")).to_be_visible()
    caio_row, bia_row = page.locator(f"#load-{caio.id}"), page.locator(f"#load-{bia.id}")
    expect(caio_row).to_contain_text("105%")
    expect(bia_row).to_contain_text("5%")
    expect(page.locator("#sugestoes")).to_contain_text("Caio CSM → Bia CSM")
    page.shot("cs-capacity")

    page.locator("#f-csm").select_option(label="Caio CSM")
    page.get_by_role("button", name="Filtrar").click()
    expect(page).to_have_url(re.compile(rf"csm={caio.id}"))
    page.get_by_role("checkbox", name="Padaria 00 Ltda").check()
    page.get_by_role("checkbox", name="Padaria 01 Ltda").check()
    expect(page.locator(".cap-count")).to_have_text("(2)")
    page.get_by_label("Novo CSM").select_option(label="Bia CSM")
    page.shot("cs-capacity-selected")
    page.get_by_role("button", name=re.compile("Reatribuir selecionadas")).click()

    expect(page.locator(".flash-success")).to_contain_text("2 conta(s) reatribuída(s) para Bia CSM")
    expect(caio_row).to_contain_text("100%")   # 40/40
    expect(bia_row).to_contain_text("10%")     # 4/40
    expect(caio_row).to_contain_text("40")
    expect(page.locator("#cap-reassign")).not_to_contain_text("Padaria 00 Ltda")  # still filtered on Caio
    expect(page.locator("#sugestoes")).to_contain_text("todas as carteiras cabem na capacidade")
    page.shot("cs-capacity-reassigned")

    page.goto("/sucesso/churn")  # the retention figures sit on the churn page
    expect(page.locator("#retention-trailing")).to_contain_text("NRR · últimos 12 meses")
    expect(page.locator("#churn-months thead")).to_contain_text("GRR")
    page.shot("cs-churn-retention")
