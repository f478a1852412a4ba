"""Every customer-success screen looks finished at 375x812 and 1280x800, for the CS leader and for a CSM: the
page never scrolls sideways (the account page's "Registrar expansão" made it 431 px wide), nothing is cut off,
at 1280 no table scrolls inside its box (the churn table by month did) while the boards may, every scrollable
table is reachable by keyboard (axe `scrollable-region-focusable`), no serious axe finding, no raw identifier,
and an overdue NPS detractor deadline says "atrasado". The checks are the crawl's own (tests/browser/test_crawl.py),
run here on a world built to be wide: long names, six-figure MRRs, a year of history, a migration per step."""
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal.cs.services import accounts as account_services
from portal.accounts.models import User
from portal.cs.models import local_today
from portal.cs.services import churn, nps, playbooks
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.browser.conftest import BROWSER
from tests.browser.test_crawl import PAGE_CHECKS, raw_text_findings
from tests.browser.test_cs_playbooks_browser import world as playbook_world
from tests.browser.test_journeys import log_in
from tests.cs.conftest import new_cnpj

pytestmark = BROWSER

NAMES = ("Distribuidora Pampa Comércio de Alimentos", "Cooperativa Agro Campos Gerais", "Hospital Santa Clara",
         "Laticínios Serra Azul", "Transportadora Rodovale", "Construtora Horizonte Azul")


def wide_world():
    leader, old = playbook_world()  # a legacy product with its successor, five banks with six-figure MRRs
    csm = db.session.execute(select(User).where(User.role == "csm")).scalar_one()
    year_ago = utcnow() - timedelta(days=400)
    accounts = [account_services.create_account(
        {"name": name, "cnpj": new_cnpj(), "employees": 1200, "mrr": f"{48 + i}.740,00", "csm_id": csm.id,
         "product_ids": [old.id], "touch_model": ("tech", "mid", "high")[i % 3], "contact_points": 3}, leader,
        started_at=year_ago) for i, name in enumerate(NAMES)]
    for account in accounts[:3]:
        account_services.save_contact(account, {"name": "Marina Prado de Albuquerque", "role": "decision",
                                                "email": "marina.albuquerque@exemplo.com.br", "phone": "11987654321"})
    reason = (churn.active_reasons() or [churn.save_reason({"name": "Percepção de valor"})])[0]
    db.session.flush()
    month_ago = (utcnow() - timedelta(days=40)).date().isoformat()
    churn.record_churn(accounts[5], {"kind": "downgrade", "churn_date": month_ago, "mrr_lost": "12.500,00",
                                     "reason_id": str(reason.id), "what_happened": "Reduziu o plano"}, leader)
    churn.record_expansion(accounts[4], {"new_mrr": "1.261.250,00", "change_date": month_ago}, leader)
    migrations = playbooks.start_migrations(old, accounts[:3], leader)
    playbooks.complete_step(migrations[1], {"step": "negotiation", "owner_id": str(csm.id),
                                            "done_on": local_today().isoformat()}, leader)  # São Paulo's day
    db.session.commit()
    with_deadline = accounts[3]
    late = nps.answer(nps.survey_token(with_deadline), "2", "Relatório de economia não fecha")
    late.task.due_at = utcnow() - timedelta(days=1)  # answered three days ago: the 2-day deadline has passed
    db.session.commit()
    return leader, csm, old, accounts, migrations, late


def check(page, path):
    page.goto(path)
    page.wait_for_load_state("networkidle")
    result = page.evaluate(PAGE_CHECKS, page.viewport_size["width"])
    problems = result["problems"] + raw_text_findings(result["text"])
    problems += [f"axe {v['impact']} {v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
                 for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    return problems


@pytest.mark.timeout(240)
def test_every_cs_screen_fits_the_phone_and_the_laptop(page):
    leader, csm, product, accounts, migrations, late = wide_world()
    account = accounts[0]
    # the screens that broke (account, churn, reasons, NPS, migrations, account list) and the ones around them
    pages = ["/sucesso/", "/sucesso/pendencias", "/sucesso/contas", f"/sucesso/contas/{account.id}",
             "/sucesso/nps", f"/sucesso/nps/respostas/{late.id}", "/sucesso/churn", "/sucesso/churn/motivos",
             f"/sucesso/migracoes/produtos/{product.id}", "/sucesso/migracoes/quadro",
             f"/sucesso/migracoes/{migrations[1].id}", "/sucesso/jornada", "/sucesso/capacidade"]
    log_in(page, leader.email)
    expect(page).to_have_url(f"{page.url.split('/sucesso')[0]}/sucesso/")
    found = {path: problems for path in pages if (problems := check(page, path))}
    assert not found, found

    page.goto(f"/sucesso/contas/{account.id}")
    page.shot("cs-layout-account")
    page.goto("/sucesso/churn")
    page.shot("cs-layout-churn")
    page.goto("/sucesso/nps")
    expect(page.locator(".cs-list li", has_text=accounts[3].name).locator(".cs-overdue")).to_have_text("atrasado")
    page.shot("cs-layout-nps")

    page.context.clear_cookies()
    log_in(page, csm.email)
    expect(page).to_have_url(f"{page.url.split('/sucesso')[0]}/sucesso/")
    csm_pages = ["/sucesso/pendencias", f"/sucesso/contas/{accounts[3].id}", "/sucesso/nps"]
    found = {path: problems for path in csm_pages if (problems := check(page, path))}
    assert not found, found
    page.goto("/sucesso/pendencias")
    alert = page.locator(".cs-alert", has_text=accounts[3].name)
    expect(alert.locator(".cs-overdue")).to_have_text("atrasado")
    page.shot("cs-layout-work")
