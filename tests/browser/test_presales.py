"""Pre-sales in a real Chromium, at phone and desktop width: the SDR qualifies and hands over, the broker
checks in on the online roleta, accepts the offer, logs a call and moves the card on the board, where the
stage's required field opens a small form that blocks until it is filled."""
import re

from playwright.sync_api import expect

from portal.extensions import db
from portal.presales.demo import ensure_defaults
from portal.presales.models import CustomField, Lead, Queue, QueueMember
from portal.presales.services.intake import intake
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in, log_out
from tests.factories import make_development, sales_tree

pytestmark = BROWSER


def presales_world(mode="online"):
    """The standard funnel, an SDR queue (offline) and a broker roleta; one WhatsApp lead for the SDR."""
    pipeline = ensure_defaults()
    people = sales_tree()
    make_development("Residencial Jardim Europa", slug="jardim-europa")
    db.session.add(CustomField(key="horario", label="Melhor horário para visita", kind="choice",
                               choices=["Manhã", "Tarde", "Noite"]))
    visit = next(s for s in pipeline.stages if s.name == "Visita agendada")
    visit.required_fields = ["phone", "interest_level", "custom:horario"]
    brokers = Queue(name="Roleta", kind="broker", mode=mode, offer_minutes=10)
    brokers.members = [QueueMember(user_id=people["south_broker"].id)]
    sdr = Queue(name="SDR", kind="sdr", mode="offline")
    sdr.members = [QueueMember(user_id=people["sdr"].id)]
    db.session.add_all([brokers, sdr])
    db.session.commit()
    lead = intake({"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "phone": "(11) 98765-4321",
                   "development": "jardim-europa", "channel": "whatsapp", "media": "instagram",
                   "message": "Quero visitar o decorado"}).lead
    db.session.commit()
    assert lead.owner_id == people["sdr"].id and lead.stage.is_sdr
    return people, lead


def column(page, stage_name):
    return page.locator(".board-col").filter(has=page.get_by_role("heading", name=stage_name, exact=True))


def test_sdr_hands_over_broker_accepts_and_moves_the_card(page):
    people, lead = presales_world()
    number = lead.number

    # The SDR qualifies the lead and sends it to the brokers.
    log_in(page, people["sdr"].email)
    page.goto(f"/pre-vendas/leads/{lead.id}")
    expect(page.get_by_role("heading", name="Fernanda Rocha")).to_be_visible()
    page.get_by_label("Nível de interesse").select_option(label="Alto")
    page.get_by_label("Faixa de orçamento").select_option(label="R$ 300 a 600 mil")
    page.get_by_label("Aderência ao empreendimento").select_option(label="Combina")
    page.get_by_label("Prazo de compra").select_option(label="Até 3 meses")
    page.get_by_label("Observações da qualificação").fill("Casal, primeiro imóvel, aprovado no banco")
    page.get_by_role("button", name="Salvar qualificação").click()
    expect(page.locator(".flash-success")).to_contain_text("Qualificação salva (nota 95)")
    page.shot("presales-lead-sdr")
    page.get_by_role("button", name="Enviar aos corretores").click()
    expect(page.locator(".flash-success")).to_contain_text("aguardando um corretor na fila")
    log_out(page)

    # The broker checks in on the online roleta, sees the offer and accepts it.
    log_in(page, people["south_broker"].email)
    expect(page).to_have_url(re.compile(r"/pre-vendas/$"))
    page.get_by_role("button", name="Fazer check-in").click()
    expect(page.locator(".flash-success")).to_contain_text("1 lead(s) aguardando foram oferecidos")
    expect(page.locator(".presence-state")).to_have_text("Online")
    page.get_by_role("navigation", name="Pré-vendas").get_by_role("link", name="Ofertas").click()
    offer = page.locator("article.offer", has_text=number)
    expect(offer).to_contain_text("Expira em")
    page.shot("presales-offers")
    offer.get_by_role("button", name="Aceitar").click()
    expect(page).to_have_url(re.compile(rf"/pre-vendas/leads/{lead.id}$"))
    expect(page.locator(".flash-success")).to_contain_text(f"Lead {number} é seu")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Bruna Corretora")
    expect(facts).to_contain_text("Sérgio SDR")  # the SDR stays in the history

    # A call logged with htmx lands on top of the timeline without a reload.
    page.get_by_label("Tipo").select_option(label="Ligação")
    page.get_by_label("O que aconteceu").fill("Liguei, visita combinada para sábado")
    page.get_by_role("button", name="Registrar").click()
    expect(page.locator("#timeline li.tl-narrative").first).to_contain_text("Liguei, visita combinada para sábado")
    expect(page.get_by_label("O que aconteceu")).to_have_value("")

    # On the board: to "Visita agendada", which needs the best time for the visit.
    page.get_by_role("navigation", name="Pré-vendas").get_by_role("link", name="Funil").click()
    card = page.locator(".lead-card", has_text=number)
    service, visit = column(page, "Atendimento"), column(page, "Visita agendada")
    expect(service.locator(".lead-card")).to_have_count(1)
    expect(visit.locator("[data-count]")).to_have_text("0")
    page.shot("presales-board")
    if page.viewport_name == "phone":
        card.get_by_label(f"Mover {number} para").select_option(label="Visita agendada")
        card.get_by_role("button", name="Mover").click()
    else:
        drop = visit.locator(".board-cards")
        drop.scroll_into_view_if_needed()  # Chromium drops a drag whose target scrolls into view mid-drag
        card.drag_to(drop)

    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"Mover {number} para “Visita agendada”")
    expect(dialog.get_by_label("Melhor horário para visita")).to_be_focused()
    page.shot("presales-required-fields")
    dialog.get_by_role("button", name="Mover").click()  # still empty: blocked
    expect(dialog.locator(".error")).to_contain_text("Melhor horário para visita é obrigatório")
    expect(service.locator(".lead-card", has_text=number)).to_be_visible()

    dialog.get_by_label("Melhor horário para visita").select_option("Tarde")
    dialog.get_by_role("button", name="Mover").click()
    expect(dialog).to_be_hidden()
    expect(visit.locator(".lead-card", has_text=number)).to_be_visible()
    expect(service.locator(".lead-card")).to_have_count(0)
    expect(visit.locator("[data-count]")).to_have_text("1")
    expect(service.locator("[data-count]")).to_have_text("0")

    page.reload()  # it stuck
    expect(column(page, "Visita agendada").locator(".lead-card", has_text=number)).to_be_visible()
    db.session.expire_all()
    moved = db.session.get(Lead, lead.id)
    assert moved.stage.name == "Visita agendada" and moved.custom == {"horario": "Tarde"}


def test_list_filters_and_lead_page_at_this_width(page):
    people, lead = presales_world(mode="offline")
    for n, name in enumerate(["Larissa Mendes Albuquerque", "Otávio Siqueira", "Henrique Vasconcelos de Oliveira"]):
        intake({"name": name, "email": f"cliente{n}@exemplo.com.br", "phone": f"1198765000{n}",
                "development": "jardim-europa", "channel": "site", "media": "google"})
    db.session.commit()
    log_in(page, people["head"].email)
    page.goto("/pre-vendas/leads")
    table = page.locator("table.lead-table")
    expect(table.locator("tbody tr")).to_have_count(4)
    page.get_by_label("Buscar").fill("Otávio")
    page.get_by_role("button", name="Filtrar").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Otávio Siqueira")
    page.shot("presales-list")
    page.goto("/pre-vendas/funil")
    expect(page.locator(".lead-card")).to_have_count(4)
    page.shot("presales-board-manager")
    page.goto(f"/pre-vendas/leads/{lead.id}")
    expect(page.get_by_role("link", name="WhatsApp")).to_have_attribute("href", "https://wa.me/5511987654321")
    page.shot("presales-lead")
