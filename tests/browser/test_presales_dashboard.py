"""The pre-sales dashboard in a real Chromium, at phone and desktop width: a manager opens it, clicks a bar
of the channel chart, lands on the leads list filtered by that channel, then goes to the "Atendimento ao
cliente" report from the dashboard's "Baixar PDF" and downloads the PDF the worker rendered."""
import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from portal.extensions import db
from portal.presales.demo import ensure_defaults
from portal.presales.models import Channel, Queue, QueueMember
from portal.presales.services.intake import intake
from portal.presales.services.leads import log_contact
from tests.browser.conftest import ARTIFACTS, BROWSER
from tests.browser.test_journeys import log_in
from tests.factories import make_development, sales_tree

pytestmark = BROWSER


def dashboard_world():
    """Three leads this month through the offline roleta (south, north, south): two from the site, one manual;
    the south broker answers her first lead at once."""
    ensure_defaults()
    people = sales_tree()
    make_development("Residencial Jardim Europa", slug="jardim-europa")
    queue = Queue(name="Roleta", kind="broker", mode="offline")
    queue.members = [QueueMember(user_id=people["south_broker"].id, position=0),
                     QueueMember(user_id=people["north_broker"].id, position=1)]
    db.session.add(queue)
    db.session.commit()
    leads = []
    for i, (name, channel) in enumerate([("Fernanda Rocha", "site"), ("Ricardo Nunes", "site"),
                                         ("Tiago Moreira", "manual")]):
        leads.append(intake({"name": name, "email": f"cliente{i}@exemplo.com.br", "phone": f"+5511987650{i:03d}",
                             "development": "jardim-europa", "channel": channel, "media": "google"}).lead)
        db.session.commit()
    log_contact(leads[0], "call", "Primeiro contato", people["south_broker"])
    db.session.commit()
    return people, leads


def test_manager_drills_down_from_a_bar_and_downloads_the_report_pdf(page, run_jobs):
    people, leads = dashboard_world()
    site = db.session.execute(db.select(Channel).where(Channel.slug == "site")).scalar_one()
    db.session.commit()  # end this thread's transaction: the served app writes (login, report run)

    log_in(page, people["head"].email)
    page.goto("/pre-vendas/painel/")
    expect(page.get_by_role("heading", name="Painel de pré-vendas")).to_be_visible()
    received = page.locator(".dash-stat", has_text="Leads recebidos")
    expect(received.locator(".stat-value")).to_have_text("3")
    sla = page.locator(".dash-stat", has_text="SLA de 1ª resposta").locator(".stat-value").inner_text()
    assert sla == "100,0 %"  # one answered on time; the other two are not due yet
    expect(page.get_by_role("heading", name="Leads por canal")).to_be_visible()
    page.shot("presales-dashboard")

    # A bar of "Leads por canal" is a link to the list filtered by that channel (and the period).
    bar = page.get_by_role("link", name="Site: 2")
    bar.scroll_into_view_if_needed()
    bar.click()
    expect(page).to_have_url(re.compile(rf"/pre-vendas/leads\?.*channel={site.id}"))
    assert "created_from=" in page.url and "created_to=" in page.url
    table = page.locator("table.lead-table")
    expect(table).to_contain_text("Fernanda Rocha")
    expect(table).to_contain_text("Ricardo Nunes")
    expect(table).not_to_contain_text("Tiago Moreira")
    page.shot("presales-dashboard-drilldown")

    # Back on the dashboard, "Baixar PDF" of the service report opens its page with the period filled in.
    page.go_back()
    page.get_by_role("link", name="Baixar PDF: Atendimento ao cliente").click()
    expect(page.get_by_role("heading", name="Atendimento ao cliente")).to_be_visible()
    expect(page.get_by_label("De", exact=True)).not_to_have_value("")
    page.get_by_role("button", name="Gerar relatório").click()
    expect(page).to_have_url(re.compile(r"/relatorios/execucoes/\d+$"))
    run_jobs()  # the worker renders; the page, polling, shows the download link
    download_link = page.get_by_role("link", name="Baixar PDF")
    expect(download_link).to_be_visible(timeout=15_000)
    page.shot("presales-report-ready")
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert re.fullmatch(r"atendimento-ao-cliente-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    path = ARTIFACTS / f"presales-service-{page.viewport_name}.pdf"
    download.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "Atendimento ao cliente" in text and "Bruna Corretora" in text and "Carlos Corretor" in text
    # received, answered, on time, late, pending, SLA: the dashboard's figures
    assert re.search(rf"Total\s+3\s+1\s+1\s+0\s+2\s+{sla}", text), text
