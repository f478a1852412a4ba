"""Pre-sales pages as a phone and a laptop show them: the Kanban board (five compact columns side by side at
1280, the board scrolling sideways and never the document), the dashboard's chart links (no serious axe-core
finding, nested-interactive included) and the two pages that used to scroll sideways at 375 px (the manager's
agenda and API clients)."""
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.extensions import db
from portal.presales.models import Queue, QueueMember
from portal.presales.services.intake import intake
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.browser.test_presales_dashboard import dashboard_world
from tests.factories import make_user

pytestmark = BROWSER

# clientWidth, not innerWidth: a phone (is_mobile) widens its layout viewport to fit a page that overflows.
DOCUMENT_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def assert_no_sideways_scroll(page):
    width, viewport = page.evaluate(DOCUMENT_WIDTH)
    assert width <= viewport, f"{page.url}: the document is {width}px wide in a {viewport}px window"


def test_board_shows_five_columns_at_1280_and_scrolls_inside_itself(page):
    people, leads = dashboard_world()
    db.session.commit()
    log_in(page, people["head"].email)
    page.goto("/pre-vendas/funil")
    board = page.locator("[data-board]")
    expect(board.locator(".lead-card").first).to_be_visible()
    page.shot("presales-board")
    assert_no_sideways_scroll(page)
    # Columns wholly inside the board's visible box, without scrolling it.
    shown = page.evaluate("""() => {
      const box = document.querySelector('[data-board]').getBoundingClientRect();
      return [...document.querySelectorAll('.board-col')].filter(c => {
        const r = c.getBoundingClientRect();
        return r.left >= box.left - 1 && r.right <= box.right + 1;
      }).length;
    }""")
    columns = board.locator(".board-col").count()
    overflow = page.evaluate("() => getComputedStyle(document.querySelector('[data-board]')).overflowX")
    assert overflow == "auto"
    if page.viewport_name == "desktop":
        assert shown >= 5, f"{shown} of {columns} columns visible at 1280"
        # the column header stays put while its cards scroll
        head = board.locator(".board-col-head").first
        assert head.evaluate("e => getComputedStyle(e).position") == "sticky"
    else:
        assert shown >= 1
    card = board.locator(".lead-card", has_text=leads[0].name)
    expect(card.locator(".lead-contact")).to_have_text("Contato hoje")
    expect(board.locator(".lead-card", has_text=leads[1].name).locator(".lead-contact")).to_have_text("Sem contato")


def test_dashboard_chart_links_have_no_serious_axe_finding(page):
    people, _ = dashboard_world()
    db.session.commit()
    log_in(page, people["head"].email)
    page.goto("/pre-vendas/painel/")
    expect(page.get_by_role("link", name="Site: 2")).to_be_visible()
    page.shot("presales-dashboard-axe")
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations]
    assert_no_sideways_scroll(page)


def test_agenda_and_api_clients_fit_a_phone(page):
    people, _ = dashboard_world()
    make_user("broker", team=people["south"], name="Maria Aparecida de Albuquerque Vasconcelos")  # widens the picker
    make_user("admin", email="admin.layout@exemplo.com.br", name="Ana Admin")
    db.session.commit()
    log_in(page, people["head"].email)
    page.goto("/pre-vendas/agenda")
    expect(page.get_by_label("Responsável")).to_be_visible()  # the manager's team picker, the widest control
    page.shot("presales-agenda-manager")
    assert_no_sideways_scroll(page)

    page.context.clear_cookies()
    log_in(page, "admin.layout@exemplo.com.br")
    page.goto("/pre-vendas/config/api-clients")
    assert_no_sideways_scroll(page)
    page.get_by_label("Nome do sistema").fill("Portal Imobiliário Zona Sul")
    for scope in page.locator("input[name=scopes]").all():
        scope.check()
    page.get_by_role("button", name="Criar token").click()
    page.goto("/pre-vendas/config/api-clients")
    expect(page.get_by_role("cell", name="Portal Imobiliário Zona Sul")).to_be_visible()
    page.shot("presales-api-clients")
    assert_no_sideways_scroll(page)


def test_users_list_fits_a_laptop_without_scrolling_sideways(page):
    people, _ = dashboard_world()
    team = people["south"]
    team.name = "Comercial — Zona Sul e Litoral Norte"
    make_user("broker", team=team, name="Maria Aparecida de Albuquerque Vasconcelos",
              email="maria.aparecida.albuquerque.vasconcelos@imobiliaria-exemplo.com.br")
    make_user("admin", email="admin.layout@exemplo.com.br", name="Ana Admin")
    db.session.commit()
    log_in(page, "admin.layout@exemplo.com.br")
    page.goto("/admin/usuarios")
    expect(page.get_by_role("link", name="Maria Aparecida de Albuquerque Vasconcelos")).to_be_visible()
    page.shot("presales-users")
    assert_no_sideways_scroll(page)
    if page.viewport_name == "desktop":  # a phone may scroll the table inside its box; a laptop must not
        wide = page.evaluate("() => { const w = document.querySelector('.table-wrap'); "
                             "return [w.scrollWidth, w.clientWidth]; }")
        assert wide[0] <= wide[1], f"the users table is {wide[0]}px in {wide[1]}px"
