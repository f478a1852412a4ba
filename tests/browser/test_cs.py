"""Customer success in a real Chromium, at phone and desktop width: a CSM opens their work list, sees an
overdue follow-up, logs a call right there, and the account's follow-up moves to the next due date of its
cadence (ME/PME in onboarding: every 15 days)."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from portal.cs.models import local_today
from portal.cs.services.accounts import create_account, save_contact
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.cs.conftest import new_cnpj
from tests.factories import make_team, make_user

pytestmark = BROWSER


def cs_world():
    leader = make_user("cs_leader", name="Lívia Líder")
    team = make_team("Sucesso do Cliente", manager=leader)
    csm = make_user("csm", team=team, name="Caio CSM")
    # started 20 days ago, no contact since: the fortnightly follow-up is 5 days late
    late = create_account({"name": "Laticínios Serra Azul", "cnpj": new_cnpj(), "employees": 75, "mrr": "1.200,00",
                           "csm_id": csm.id}, leader, started_at=utcnow() - timedelta(days=20))
    save_contact(late, {"name": "Marina Prado", "email": "marina@serraazul.com.br", "role": "decision"})
    create_account({"name": "Hospital Santa Clara", "cnpj": new_cnpj(), "employees": 1200, "mrr": "18.000,00",
                    "csm_id": csm.id}, leader, started_at=utcnow() - timedelta(days=2))
    db.session.commit()
    return csm, late


def test_csm_logs_a_touchpoint_from_the_work_list_and_the_follow_up_moves(page):
    csm, account = cs_world()
    next_due = (local_today() + timedelta(days=15)).strftime("%d/%m/%Y")

    log_in(page, csm.email)
    expect(page).to_have_url(re.compile(r"/sucesso/$"))
    page.get_by_role("link", name="Ver pendências").click()
    expect(page.get_by_role("heading", name="Pendências", exact=True)).to_be_visible()
    row = page.locator(".cs-work-item", has_text="Laticínios Serra Azul")
    expect(row).to_contain_text("Follow-up da cadência")
    expect(row).to_contain_text("atrasado há 5 dias")
    expect(page.locator(".cs-work-item").first).to_contain_text("Laticínios Serra Azul")  # most overdue first
    page.shot("cs-work-list")

    row.get_by_text("Registrar contato").click()
    row.get_by_label("Tipo").select_option(label="Ligação")
    row.get_by_label("O que aconteceu").fill("Ligação com a Marina: configuração concluída")
    page.shot("cs-work-log-form")
    row.get_by_role("button", name="Registrar").click()

    done = page.locator(f"#work-{account.id}")
    expect(done).to_contain_text("Contato registrado")
    expect(done.locator(".cs-next-date")).to_have_text(next_due)
    expect(page.locator("#cs-counts")).to_contain_text("0 atrasadas")  # the counters follow
    page.shot("cs-work-logged")

    done.get_by_role("link", name="Laticínios Serra Azul").click()
    expect(page.get_by_role("heading", name="Laticínios Serra Azul")).to_be_visible()
    expect(page.locator(".cs-next-follow-up")).to_have_text(next_due)
    expect(page.locator("#timeline")).to_contain_text("Ligação com a Marina: configuração concluída")
    page.shot("cs-account")

    page.goto("/sucesso/pendencias")  # the account left the list: its next follow-up is two weeks away
    expect(page.locator(".cs-work-item", has_text="Laticínios Serra Azul")).to_have_count(0)
    expect(page.locator(".cs-work-item", has_text="Hospital Santa Clara")).to_have_count(1)
