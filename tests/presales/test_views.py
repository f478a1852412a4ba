"""Pre-sales screens through the test client: scope, board moves with required fields, lead page actions,
list and CSV export, manual creation, offers and presence."""
import csv
import io

from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.extensions import db
from portal.presales.models import CustomField, Lead, LossReason, Narrative, Offer, QueueMember, Stage
from portal.presales.services import distribution
from portal.presales.services.intake import intake
from tests.factories import make_development

HX = {"HX-Request": "true"}


def entry(n=1, **over):
    return {"name": f"Cliente {n:02d}", "email": f"cliente{n}@exemplo.com.br", "phone": f"+55 11 98765-{n:04d}",
            "development": "jardim-europa", "channel": "site", "media": "google", **over}


def new_lead(n=1, **over) -> Lead:
    lead = intake(entry(n, **over)).lead
    db.session.commit()
    return lead


def stage(name) -> Stage:
    return db.session.execute(select(Stage).where(Stage.name == name)).scalar_one()


def narratives(lead) -> int:
    return db.session.scalar(select(func.count(Narrative.id)).where(Narrative.lead_id == lead.id))


def reason_id():
    return db.session.execute(select(LossReason.id).order_by(LossReason.id)).scalars().first()


def two_team_leads(sales):
    """The offline roleta alternates: the south broker gets the first lead, the north broker the second."""
    south = new_lead(1, name="Fernanda Rocha")
    north = new_lead(2, name="Ricardo Nunes")
    assert south.owner_id == sales["south_broker"].id and north.owner_id == sales["north_broker"].id
    return south, north


# --- scope -------------------------------------------------------------------------------------------------------

def test_manager_sees_only_their_subtree_on_board_list_export_and_lead_page(sales, client, login_as):
    south, north = two_team_leads(sales)
    login_as(sales["south_mgr"])

    board = client.get("/pre-vendas/funil").get_data(as_text=True)
    assert "Fernanda Rocha" in board and "Ricardo Nunes" not in board

    listing = client.get("/pre-vendas/leads").get_data(as_text=True)
    assert "Fernanda Rocha" in listing and "Ricardo Nunes" not in listing
    assert "Carlos Corretor" not in client.get("/pre-vendas/leads?q=Ricardo").get_data(as_text=True)

    exported = client.get("/pre-vendas/leads/exportar.csv").get_data(as_text=True)
    assert south.number in exported and north.number not in exported

    assert client.get(f"/pre-vendas/leads/{south.id}").status_code == 200
    assert client.get(f"/pre-vendas/leads/{north.id}").status_code == 404
    # ...and every action on it is 404 as well, with nothing written
    before = narratives(north)
    response = client.post(f"/pre-vendas/leads/{north.id}/narrativas", data={"kind": "note", "body": "x"})
    assert response.status_code == 404 and narratives(north) == before
    assert client.post(f"/pre-vendas/leads/{north.id}/mover",
                       data={"stage_id": stage("Proposta").id}).status_code == 404


def test_head_of_sales_sees_both_teams_and_filters_by_team_and_owner(sales, client, login_as):
    south, north = two_team_leads(sales)
    login_as(sales["head"])
    both = client.get("/pre-vendas/funil").get_data(as_text=True)
    assert "Fernanda Rocha" in both and "Ricardo Nunes" in both
    by_team = client.get(f"/pre-vendas/funil?team={sales['north'].id}").get_data(as_text=True)
    assert "Ricardo Nunes" in by_team and "Fernanda Rocha" not in by_team
    by_owner = client.get(f"/pre-vendas/leads?owner={sales['south_broker'].id}").get_data(as_text=True)
    assert "Fernanda Rocha" in by_owner and "Ricardo Nunes" not in by_owner


def test_a_broker_sees_only_their_own_leads(sales, client, login_as):
    south, north = two_team_leads(sales)
    login_as(sales["north_broker"])
    page = client.get("/pre-vendas/leads").get_data(as_text=True)
    assert "Ricardo Nunes" in page and "Fernanda Rocha" not in page
    assert client.get(f"/pre-vendas/leads/{south.id}").status_code == 404


# --- board ----------------------------------------------------------------------------------------------------------

def test_move_with_missing_required_fields_answers_422_changes_nothing_then_moves(sales, client, login_as):
    lead = new_lead(1)
    login_as(sales["south_broker"])
    visit = stage("Visita agendada")  # requires phone and interest level
    before = narratives(lead)

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", data={"stage_id": visit.id}, headers=HX)
    assert response.status_code == 422
    form = response.get_data(as_text=True)
    assert "Nível de interesse" in form and 'name="interest_level"' in form and "<html" not in form
    assert 'name="phone"' not in form  # the phone is already there
    db.session.expire_all()
    assert lead.stage.name == "Atendimento" and narratives(lead) == before

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX,
                           data={"stage_id": visit.id, "interest_level": ""})
    assert response.status_code == 422  # still empty: still blocked
    db.session.expire_all()
    assert lead.stage.name == "Atendimento"

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX,
                           data={"stage_id": visit.id, "interest_level": "high"})
    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert f'id="lead-{lead.id}"' in card and f'data-stage-id="{visit.id}"' in card
    db.session.expire_all()
    assert lead.stage_id == visit.id and lead.interest_level == "high" and lead.qualification_score == 30


def test_required_phone_and_custom_field_are_filled_from_the_stage_form(sales, client, login_as):
    db.session.add(CustomField(key="renda", label="Renda familiar", kind="number"))
    stage("Proposta").required_fields = ["budget_range", "custom:renda"]
    visit = stage("Visita agendada")
    db.session.commit()
    lead = new_lead(1, phone="")
    login_as(sales["south_broker"])

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", data={"stage_id": visit.id})  # plain post
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<html" in page and 'name="phone"' in page and 'name="interest_level"' in page

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover",
                           data={"stage_id": visit.id, "phone": "123", "interest_level": "medium"})
    assert response.status_code == 422 and "Telefone inválido." in response.get_data(as_text=True)
    db.session.expire_all()
    assert lead.phone is None and lead.interest_level == ""

    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", data={
        "stage_id": visit.id, "phone": "(11) 91234-5678", "interest_level": "medium", "next": "/pre-vendas/funil"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pre-vendas/funil")
    db.session.expire_all()
    assert lead.phone == "+5511912345678" and lead.stage.name == "Visita agendada"

    proposal = stage("Proposta")
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX, data={"stage_id": proposal.id})
    assert response.status_code == 422 and "Renda familiar" in response.get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX, data={
        "stage_id": proposal.id, "budget_range": "300_600", "custom:renda": "dez mil"})
    assert response.status_code == 422 and "informe um número" in response.get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX, data={
        "stage_id": proposal.id, "budget_range": "300_600", "custom:renda": "12000"})
    assert response.status_code == 200
    db.session.expire_all()
    assert lead.stage.name == "Proposta" and lead.custom == {"renda": "12000"}


def test_moving_to_the_lost_column_asks_for_the_loss_reason(sales, client, login_as):
    lead = new_lead(1)
    login_as(sales["south_broker"])
    lost = stage("Perdido")
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", data={"stage_id": lost.id}, headers=HX)
    assert response.status_code == 422 and 'name="loss_reason_id"' in response.get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX,
                           data={"stage_id": lost.id, "loss_reason_id": reason_id()})
    assert response.status_code == 200
    db.session.expire_all()
    assert lead.status == "lost" and lead.loss_reason_id == reason_id()


def test_stage_that_requires_a_schedule_asks_for_date_and_time(sales, client, login_as):
    from portal.presales.models import Schedule
    visit = stage("Visita agendada")
    visit.required_fields, visit.requires_schedule = [], True
    db.session.commit()
    lead = new_lead(1)
    login_as(sales["south_broker"])
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", data={"stage_id": visit.id}, headers=HX)
    form = response.get_data(as_text=True)
    assert response.status_code == 422 and 'type="datetime-local"' in form and 'name="schedule_kind"' in form
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX, data={
        "stage_id": visit.id, "scheduled_at": "2999-01-02T10:30", "schedule_kind": "visit"})
    assert response.status_code == 200
    item = db.session.execute(select(Schedule)).scalar_one()
    assert item.lead_id == lead.id and item.scheduled_at.hour == 13  # 10:30 in São Paulo is 13:30 UTC


def test_stage_of_another_pipeline_is_refused(sales, client, login_as):
    from portal.presales.models import Pipeline
    other = Pipeline(name="Outro funil")
    other.stages.append(Stage(name="Outra etapa", position=0))
    db.session.add(other)
    db.session.commit()
    lead = new_lead(1)
    login_as(sales["south_broker"])
    response = client.post(f"/pre-vendas/leads/{lead.id}/mover", headers=HX,
                           data={"stage_id": other.stages[0].id})
    assert response.status_code == 422 and "Escolha uma etapa deste funil." in response.get_data(as_text=True)


def test_board_columns_load_twenty_cards_then_more(sales, client, login_as):
    sales["queue"].members[1].paused = True  # everything to the south broker
    db.session.commit()
    for n in range(25):
        new_lead(n + 1)
    login_as(sales["south_broker"])
    board = client.get("/pre-vendas/funil").get_data(as_text=True)
    assert board.count('class="lead-card"') == 20 and "Carregar mais" in board
    assert '<span class="board-count" data-count aria-label="25 leads">25</span>' in board

    column = stage("Atendimento")
    more = client.get(f"/pre-vendas/funil/etapas/{column.id}?offset=20", headers=HX).get_data(as_text=True)
    assert more.count('class="lead-card"') == 5 and "Carregar mais" not in more
    # without JavaScript "load more" is the list filtered by that stage
    response = client.get(f"/pre-vendas/funil/etapas/{column.id}?offset=20")
    assert response.status_code == 302 and f"stage={column.id}" in response.headers["Location"]


def test_board_search_finds_by_phone_digits_and_number(sales, client, login_as):
    first, _ = two_team_leads(sales)
    login_as(sales["admin"])
    assert "Fernanda Rocha" in client.get("/pre-vendas/funil?q=98765-0001").get_data(as_text=True)
    page = client.get(f"/pre-vendas/funil?q={first.number}").get_data(as_text=True)
    assert "Fernanda Rocha" in page and "Ricardo Nunes" not in page


# --- lead page --------------------------------------------------------------------------------------------------------

def test_lead_page_shows_contact_links_and_the_timeline(sales, client, login_as):
    lead = new_lead(1, message="Quero visitar o decorado")
    login_as(sales["south_broker"])
    page = client.get(f"/pre-vendas/leads/{lead.id}").get_data(as_text=True)
    assert "(11) 98765-0001" in page and 'href="tel:+5511987650001"' in page
    assert 'href="https://wa.me/5511987650001"' in page and 'href="mailto:cliente1@exemplo.com.br"' in page
    assert "Lead criado pelo canal Site" in page and "Quero visitar o decorado" in page
    assert "Enviar aos corretores" not in page and "Transferir" not in page  # not an SDR stage, not a manager


def test_add_narrative_with_htmx_returns_the_partial_and_plain_post_redirects(sales, client, login_as):
    lead = new_lead(1)
    login_as(sales["south_broker"])
    url = f"/pre-vendas/leads/{lead.id}/narrativas"

    response = client.post(url, data={"kind": "call", "body": "Liguei, pediu tabela"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="narratives"' in html
    assert html.index("Liguei, pediu tabela") < html.index("Lead criado pelo canal Site")  # newest on top
    db.session.expire_all()
    assert lead.last_contact_at is not None and lead.first_response_at is not None

    response = client.post(url, data={"kind": "note", "body": "  "}, headers=HX)
    assert response.status_code == 422 and "Descreva o que aconteceu." in response.get_data(as_text=True)

    response = client.post(url, data={"kind": "visit", "body": "Visitou o decorado"})
    assert response.status_code == 302
    assert "Visitou o decorado" in client.get(f"/pre-vendas/leads/{lead.id}").get_data(as_text=True)


def test_lost_requires_a_reason_and_won_closes(sales, client, login_as):
    lead, other = new_lead(1), new_lead(3)
    login_as(sales["admin"])
    response = client.post(f"/pre-vendas/leads/{lead.id}/perdido", data={"loss_reason_id": "", "note": "sumiu"})
    assert response.status_code == 422 and "Informe o motivo da perda." in response.get_data(as_text=True)
    db.session.expire_all()
    assert lead.status == "open"

    response = client.post(f"/pre-vendas/leads/{lead.id}/perdido", data={"loss_reason_id": reason_id()})
    assert response.status_code == 302
    db.session.expire_all()
    assert lead.status == "lost" and lead.stage.name == "Perdido"

    assert client.post(f"/pre-vendas/leads/{other.id}/ganho").status_code == 302
    db.session.expire_all()
    assert other.status == "won" and other.stage.name == "Ganho"


def test_qualification_form_scores_the_lead(sales, client, login_as):
    lead = new_lead(1, channel="whatsapp")  # an SDR channel
    login_as(sales["sdr"])
    response = client.post(f"/pre-vendas/leads/{lead.id}/qualificar", data={
        "interest_level": "high", "budget_range": "300_600", "fit": "yes", "timeframe": "3m", "note": "Boa renda"})
    assert response.status_code == 302
    db.session.expire_all()
    assert lead.qualification_score == 95
    response = client.post(f"/pre-vendas/leads/{lead.id}/qualificar", data={"interest_level": "enorme"})
    assert response.status_code == 422 and "Opção inválida." in response.get_data(as_text=True)


def test_sdr_hands_over_to_the_brokers(sales, client, login_as):
    lead = new_lead(1, channel="whatsapp")
    assert lead.stage.is_sdr and lead.owner_id == sales["sdr"].id
    login_as(sales["sdr"])
    assert "Enviar aos corretores" in client.get(f"/pre-vendas/leads/{lead.id}").get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{lead.id}/enviar-corretores")
    assert response.status_code == 302
    db.session.expire_all()
    assert lead.stage.name == "Atendimento" and lead.owner_id == sales["south_broker"].id
    assert lead.sdr_id == sales["sdr"].id
    assert client.get(f"/pre-vendas/leads/{lead.id}").status_code == 200  # the SDR still sees it


def test_manager_transfers_within_their_team_only(sales, client, login_as):
    south, north = two_team_leads(sales)
    login_as(sales["head"])
    page = client.get(f"/pre-vendas/leads/{north.id}").get_data(as_text=True)
    assert "Transferir" in page and "Bruna Corretora" in page
    response = client.post(f"/pre-vendas/leads/{north.id}/transferir",
                           data={"owner_id": sales["south_broker"].id, "reason": "férias"})
    assert response.status_code == 302
    db.session.expire_all()
    assert north.owner_id == sales["south_broker"].id
    assert "Transferido de Carlos Corretor para Bruna Corretora" in client.get(
        f"/pre-vendas/leads/{north.id}").get_data(as_text=True)

    client.post("/logout")
    login_as(sales["south_mgr"])
    response = client.post(f"/pre-vendas/leads/{south.id}/transferir", data={"owner_id": sales["north_broker"].id})
    assert response.status_code == 422 and "sua equipe" in response.get_data(as_text=True)
    db.session.expire_all()
    assert south.owner_id == sales["south_broker"].id
    client.post("/logout")
    login_as(sales["south_broker"])
    assert client.post(f"/pre-vendas/leads/{south.id}/transferir", data={"owner_id": 1}).status_code == 403


# --- list and export ---------------------------------------------------------------------------------------------------

def test_list_sorts_and_paginates(sales, client, login_as):
    for n, name in enumerate(["Bianca", "Alice", "Carla"]):
        new_lead(n + 1, name=name)
    login_as(sales["admin"])
    page = client.get("/pre-vendas/leads?sort=name&dir=asc").get_data(as_text=True)
    assert page.index("Alice") < page.index("Bianca") < page.index("Carla")
    page = client.get("/pre-vendas/leads?sort=name&dir=desc").get_data(as_text=True)
    assert page.index("Carla") < page.index("Bianca") < page.index("Alice")
    assert client.get("/pre-vendas/leads?sort=owner&dir=asc").status_code == 200
    assert client.get("/pre-vendas/leads?sort=stage&page=9").status_code == 200  # past the end: empty page


def test_csv_export_is_exactly_what_is_filtered_and_is_audited(sales, client, login_as):
    other_dev = make_development("Vila Serena", slug="vila-serena")
    in_filter = [new_lead(1, name="José Araújo"), new_lead(2, name="Zoé Müller")]
    new_lead(3, name="Fora do Filtro", development="vila-serena")
    login_as(sales["admin"])
    dev_id = in_filter[0].development_id
    assert dev_id != other_dev.id

    response = client.get(f"/pre-vendas/leads/exportar.csv?development={dev_id}&sort=name&dir=asc")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Número", "Nome", "E-mail", "Telefone"]
    assert [r[1] for r in rows[1:]] == ["José Araújo", "Zoé Müller"]
    assert rows[1][4] == "Residencial Jardim Europa" and rows[1][3] == "+5511987650001"

    assert rows[1][3] == "+5511987650001"  # a phone is not a formula

    log = db.session.execute(select(AuditLog).where(AuditLog.action == "lead.exported")).scalar_one()
    assert log.details["count"] == 2 and log.object_type == "Lead" and log.user_id == sales["admin"].id


# --- manual creation -----------------------------------------------------------------------------------------------------

def test_csv_export_does_not_let_a_name_run_as_a_formula(sales, client, login_as):
    new_lead(1, name="=HYPERLINK(\"http://mal.example\")")
    login_as(sales["admin"])
    text = client.get("/pre-vendas/leads/exportar.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][1].startswith("'=HYPERLINK")


def test_manual_lead_is_created_and_distributed(sales, client, login_as):
    login_as(sales["south_mgr"])
    response = client.post("/pre-vendas/leads/novo", data={
        "name": "Marina Lopes", "email": "Marina@Exemplo.com.br", "phone": "(11) 97777-1234",
        "development": "jardim-europa", "media": "indicacao", "message": "Indicada por cliente"})
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.channel.slug == "manual" and lead.owner_id == sales["south_broker"].id
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/pre-vendas/leads/{lead.id}")


def test_manual_bad_input_is_answered_next_to_the_fields(sales, client, login_as):
    login_as(sales["south_mgr"])
    response = client.post("/pre-vendas/leads/novo", data={"name": "", "email": "nao-e-email", "phone": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Informe o nome." in page and "E-mail inválido." in page
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_manual_duplicate_names_the_existing_lead(sales, client, login_as):
    existing = new_lead(1)
    login_as(sales["south_broker"])
    response = client.post("/pre-vendas/leads/novo", data={"name": "Outra Pessoa", "phone": "11987650001"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f'<a href="/pre-vendas/leads/{existing.id}">{existing.number}</a>' in page
    assert "já é o lead" in page
    assert db.session.scalar(select(func.count(Lead.id))) == 1
    assert db.session.execute(select(Narrative).where(Narrative.kind == "reentry")).scalar_one().lead_id == existing.id


def test_admin_may_force_a_new_lead_with_a_reason(sales, client, login_as):
    new_lead(1)
    login_as(sales["south_broker"])
    assert "forçar" not in client.get("/pre-vendas/leads/novo").get_data(as_text=True).lower()
    client.post("/logout")
    login_as(sales["admin"])
    assert "Forçar novo lead" in client.get("/pre-vendas/leads/novo").get_data(as_text=True)
    response = client.post("/pre-vendas/leads/novo", data={"name": "Homônimo", "phone": "11987650001", "force": "y"})
    assert response.status_code == 422 and "Informe o motivo" in response.get_data(as_text=True)
    response = client.post("/pre-vendas/leads/novo", data={"name": "Homônimo", "phone": "11987650001", "force": "y",
                                                           "force_reason": "Pessoas diferentes, mesmo telefone"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Lead.id))) == 2


# --- home, presence, offers ------------------------------------------------------------------------------------------

def online(sales):
    sales["queue"].mode = "online"
    db.session.commit()


def test_checkin_heartbeat_and_offer_accept(sales, client, login_as):
    online(sales)
    broker = sales["south_broker"]
    login_as(broker)
    home = client.get("/pre-vendas/").get_data(as_text=True)
    assert "Fazer check-in" in home and "Offline" in home

    lead = new_lead(1)
    assert lead.owner_id is None  # nobody online: it waits
    response = client.post("/pre-vendas/presenca", data={"checked_in": "1"})
    assert response.status_code == 302
    offer = db.session.execute(select(Offer)).scalar_one()
    assert offer.user_id == broker.id and offer.status == "pending"

    home = client.get("/pre-vendas/").get_data(as_text=True)
    assert "Fazer check-out" in home and 'hx-trigger="every 30s"' in home
    member = db.session.execute(select(QueueMember).where(QueueMember.user_id == broker.id)).scalar_one()
    seen = member.last_seen_at
    assert client.post("/pre-vendas/presenca/ping").status_code == 204
    db.session.expire_all()
    assert member.last_seen_at >= seen

    offers = client.get("/pre-vendas/ofertas").get_data(as_text=True)
    assert lead.number in offers and "Expira em" in offers and 'hx-trigger="every 10s"' in offers
    assert lead.number in client.get("/pre-vendas/ofertas", headers=HX).get_data(as_text=True)

    response = client.post(f"/pre-vendas/ofertas/{offer.id}/aceitar", headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/pre-vendas/leads/{lead.id}"
    db.session.expire_all()
    assert lead.owner_id == broker.id
    response = client.post(f"/pre-vendas/ofertas/{offer.id}/aceitar", headers=HX)
    assert response.status_code == 409 and "não está mais disponível" in response.get_data(as_text=True)


def test_declining_passes_the_offer_on_and_others_offers_are_404(sales, client, login_as):
    online(sales)
    south, north = sales["south_broker"], sales["north_broker"]
    distribution.set_presence(south, True)
    distribution.set_presence(north, True)
    db.session.commit()
    lead = new_lead(1)
    offer = db.session.execute(select(Offer)).scalar_one()
    login_as(north if offer.user_id == north.id else south)
    other_user = south if offer.user_id == north.id else north
    response = client.post(f"/pre-vendas/ofertas/{offer.id}/recusar")
    assert response.status_code == 302
    db.session.expire_all()
    nxt = db.session.execute(select(Offer).where(Offer.status == "pending")).scalar_one()
    assert nxt.user_id == other_user.id and nxt.lead_id == lead.id
    assert client.post(f"/pre-vendas/ofertas/{nxt.id}/aceitar").status_code == 404


def test_manager_home_shows_team_counts_by_stage(sales, client, login_as):
    two_team_leads(sales)
    login_as(sales["south_mgr"])
    page = client.get("/pre-vendas/").get_data(as_text=True)
    assert "Equipe por etapa" in page
    assert '<td class="num">1</td>' in page  # Atendimento: only the south lead
    assert '<th class="num">1</th>' in page  # total


def test_list_honours_dashboard_drill_down_filters(client, login_as, sales):
    from datetime import timedelta

    import time_machine

    from portal.dbtypes import utcnow
    from portal.presales.models import LossReason
    from portal.presales.services.intake import intake
    from portal.presales.services.leads import mark_lost
    with time_machine.travel(utcnow() - timedelta(days=40)):
        old = intake({"name": "Antiga Cliente", "email": "antiga@exemplo.com.br", "channel": "site",
                      "development": "jardim-europa"}).lead
    new = intake({"name": "Nova Cliente", "email": "nova@exemplo.com.br", "channel": "site",
                  "development": "jardim-europa"}).lead
    reason = db.session.query(LossReason).first()
    mark_lost(new, sales["admin"], reason.id)
    db.session.commit()
    login_as(sales["head"])
    from portal.presales.metrics.figures import today_local
    today = today_local().isoformat()  # the filter's days are São Paulo days
    html = client.get(f"/pre-vendas/leads?created_from={today}&created_to={today}").get_data(as_text=True)
    assert "Nova Cliente" in html and "Antiga Cliente" not in html
    html = client.get(f"/pre-vendas/leads?status=lost&loss_reason={reason.id}").get_data(as_text=True)
    assert "Nova Cliente" in html and "Antiga Cliente" not in html
    assert old.id
