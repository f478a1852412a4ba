"""A rep's day through the test client: the agenda (scope, day/week, overdue, "Concluir"), scheduling on a lead,
"atender pendentes" (the next lead, log and go on, skip) and the manager's active-offer campaigns."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.presales.models import Campaign, CampaignLead, Lead, LossReason, Narrative, Schedule
from portal.presales.services.intake import intake
from portal.presales.services.leads import log_contact, mark_lost
from portal.presales.services.schedules import add_schedule

HX = {"HX-Request": "true"}
SP = ZoneInfo("America/Sao_Paulo")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def new_lead(n, **over) -> Lead:
    data = {"name": f"Cliente {n:02d}", "email": f"cliente{n}@exemplo.com.br", "phone": f"+55 11 98765-{n:04d}",
            "channel": "site", "development": "jardim-europa", **over}
    lead = intake(data).lead
    db.session.commit()
    return lead


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def sign_in(client, login_as):
    """Log in as `user`, leaving whoever was logged in before."""
    def do(user):
        client.post("/logout")
        return login_as(user)
    return do


@pytest.fixture
def monday():
    """Monday 02/03/2026, 09:00 in São Paulo; the test moves the clock with `monday.move_to(at(...))`."""
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def two_teams(sales, monday):
    """The roleta alternates: Fernanda goes to the south broker, Ricardo to the north broker; each has a call
    back at 14:00 today, and Fernanda also a visit on Wednesday."""
    south = new_lead(1, name="Fernanda Rocha")
    north = new_lead(2, name="Ricardo Nunes")
    assert south.owner_id == sales["south_broker"].id and north.owner_id == sales["north_broker"].id
    add_schedule(south, sales["south_broker"], "call", at("2026-03-02 14:00"), "retornar com a tabela")
    add_schedule(north, sales["north_broker"], "call", at("2026-03-02 14:00"))
    add_schedule(south, sales["south_broker"], "visit", at("2026-03-04 10:30"), "decorado")
    db.session.commit()
    return south, north


# --- agenda -------------------------------------------------------------------------------------------------------

def test_agenda_shows_the_brokers_own_and_the_managers_team(sales, two_teams, client, sign_in):
    sign_in(sales["south_broker"])
    page = client.get("/pre-vendas/agenda").get_data(as_text=True)
    assert "Fernanda Rocha" in page and "Ricardo Nunes" not in page
    assert "14:00" in page and "retornar com a tabela" in page and "Retorno por telefone" in page
    assert "decorado" not in page  # Wednesday is not today

    sign_in(sales["north_broker"])
    page = client.get("/pre-vendas/agenda").get_data(as_text=True)
    assert "Ricardo Nunes" in page and "Fernanda Rocha" not in page

    sign_in(sales["south_mgr"])  # the south team only
    page = client.get("/pre-vendas/agenda?date=2026-03-02").get_data(as_text=True)
    assert "Fernanda Rocha" in page and "Ricardo Nunes" not in page
    assert "Bruna Corretora" in page  # whose item it is, for a manager

    sign_in(sales["head"])  # the whole tree, with a rep filter
    page = client.get("/pre-vendas/agenda?date=2026-03-02").get_data(as_text=True)
    assert "Fernanda Rocha" in page and "Ricardo Nunes" in page
    page = client.get(f"/pre-vendas/agenda?date=2026-03-02&rep={sales['north_broker'].id}").get_data(as_text=True)
    assert "Ricardo Nunes" in page and "Fernanda Rocha" not in page


def test_week_view_prev_next_and_overdue_flag(sales, two_teams, client, sign_in, monday):
    sign_in(sales["south_broker"])
    page = client.get("/pre-vendas/agenda?view=week&date=2026-03-04").get_data(as_text=True)
    assert "Semana de 02/03 a 08/03/2026" in page
    assert "retornar com a tabela" in page and "decorado" in page and "10:30" in page
    assert "date=2026-02-23" in page and "date=2026-03-09" in page  # previous and next week
    day = client.get("/pre-vendas/agenda?view=day&date=2026-03-04").get_data(as_text=True)
    assert "decorado" in day and "retornar com a tabela" not in day
    assert "date=2026-03-03" in day and "date=2026-03-05" in day
    for odd in ("amanhã", "0001-01-01"):  # a bad date shows today
        assert "Segunda, 02/03/2026" in client.get(f"/pre-vendas/agenda?date={odd}").get_data(as_text=True)
    assert "Atrasado" not in page

    monday.move_to(at("2026-03-02 15:00"))
    page = client.get("/pre-vendas/agenda").get_data(as_text=True)
    assert page.count(">Atrasado<") == 1 and "is-overdue" in page
    monday.move_to(at("2026-03-03 09:00"))  # the next day, still open: listed on top as late
    page = client.get("/pre-vendas/agenda").get_data(as_text=True)
    assert "Atrasados de dias anteriores" in page and "retornar com a tabela" in page


def test_complete_with_htmx_returns_the_item_and_plain_post_comes_back(sales, two_teams, client, sign_in):
    south, north = two_teams
    item = db.session.execute(select(Schedule).where(Schedule.lead_id == south.id, Schedule.kind == "call")).scalar_one()
    sign_in(sales["south_broker"])
    response = client.post(f"/pre-vendas/agenda/{item.id}/concluir", data={"next": "/pre-vendas/agenda"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="schedule-{item.id}"' in body and "Concluído" in body and "<html" not in body
    assert ">Concluir<" not in body
    db.session.refresh(item)
    assert item.done_at is not None
    assert count(Narrative, Narrative.lead_id == south.id, Narrative.body.like("Agendamento concluído%")) == 1

    visit = db.session.execute(select(Schedule).where(Schedule.kind == "visit")).scalar_one()
    response = client.post(f"/pre-vendas/agenda/{visit.id}/concluir", data={"next": "/pre-vendas/agenda?view=week"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pre-vendas/agenda?view=week")
    other = db.session.execute(select(Schedule).where(Schedule.lead_id == north.id)).scalar_one()
    assert client.post(f"/pre-vendas/agenda/{other.id}/concluir").status_code == 404
    db.session.refresh(other)
    assert other.done_at is None


# --- scheduling on a lead -----------------------------------------------------------------------------------------

def test_schedule_on_a_lead_in_sao_paulo_time(sales, two_teams, client, sign_in):
    south, _ = two_teams
    sign_in(sales["south_broker"])
    form = client.get(f"/pre-vendas/leads/{south.id}/agendar")
    assert form.status_code == 200 and 'type="datetime-local"' in form.get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{south.id}/agendar",
                           data={"schedule_kind": "visit", "scheduled_at": "2026-03-05T16:00", "note": "levar planta"})
    assert response.status_code == 302 and "date=2026-03-05" in response.headers["Location"]
    item = db.session.execute(select(Schedule).where(Schedule.note == "levar planta")).scalar_one()
    assert item.scheduled_at == at("2026-03-05 16:00") and item.owner_id == sales["south_broker"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "levar planta" in page and "16:00" in page

    # htmx: the same form; a good answer redirects the page to `next`
    response = client.post(f"/pre-vendas/leads/{south.id}/agendar", headers=HX,
                           data={"schedule_kind": "call", "scheduled_at": "2026-03-06T09:15",
                                 "next": f"/pre-vendas/leads/{south.id}"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/pre-vendas/leads/{south.id}"
    assert db.session.execute(select(Schedule).where(Schedule.scheduled_at == at("2026-03-06 09:15"))).scalar_one()
    assert client.post(f"/pre-vendas/leads/{south.id}/agendar", data={
        "schedule_kind": "call", "scheduled_at": "2026-03-06T10:00", "next": "//evil.example"}
    ).headers["Location"].endswith("/pre-vendas/agenda?date=2026-03-06")


def test_past_or_missing_date_is_422_and_writes_nothing(sales, two_teams, client, sign_in):
    south, _ = two_teams
    sign_in(sales["south_broker"])
    before = (count(Schedule), count(Narrative))
    response = client.post(f"/pre-vendas/leads/{south.id}/agendar",
                           data={"schedule_kind": "call", "scheduled_at": "2026-03-01T10:00", "note": "ontem"})
    assert response.status_code == 422
    assert "O agendamento precisa ser no futuro." in response.get_data(as_text=True)
    response = client.post(f"/pre-vendas/leads/{south.id}/agendar", headers=HX,
                           data={"schedule_kind": "lunch", "scheduled_at": "amanhã"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert "Escolha o tipo de agendamento." in body and "Informe data e hora do agendamento." in body
    assert (count(Schedule), count(Narrative)) == before


def test_scheduling_a_lead_of_another_team_is_404(sales, two_teams, client, sign_in):
    _, north = two_teams
    for user in (sales["south_broker"], sales["south_mgr"]):
        sign_in(user)
        assert client.get(f"/pre-vendas/leads/{north.id}/agendar").status_code == 404
        response = client.post(f"/pre-vendas/leads/{north.id}/agendar",
                               data={"schedule_kind": "call", "scheduled_at": "2026-03-05T10:00"})
        assert response.status_code == 404
    assert count(Schedule, Schedule.lead_id == north.id) == 1


# --- atender pendentes --------------------------------------------------------------------------------------------

def test_next_lead_shows_the_overdue_item_first_and_logging_moves_on(sales, client, sign_in, monday):
    south = sales["south_broker"]
    leads = [new_lead(i) for i in range(1, 5)]
    older, newer = [lead for lead in leads if lead.owner_id == south.id]
    monday.move_to(at("2026-03-02 09:10"))
    log_contact(older, "call", "primeiro contato", south)
    add_schedule(older, south, "call", at("2026-03-02 10:00"), "retornar sobre financiamento")
    db.session.commit()
    monday.move_to(at("2026-03-02 10:30"))
    sign_in(south)

    home = client.get("/pre-vendas/pendentes").get_data(as_text=True)
    assert "Atender próximo" in home
    card = client.post("/pre-vendas/pendentes/proximo", follow_redirects=True)
    page = card.get_data(as_text=True)
    assert card.status_code == 200 and older.name in page and "Agendamento atrasado" in page
    assert "retornar sobre financiamento" in page and "primeiro contato" in page
    assert 'href="tel:+5511987650001"' in page or f'href="tel:{older.phone}"' in page
    assert f'href="https://wa.me/{older.phone.lstrip("+")}"' in page
    assert f'/pre-vendas/leads/{older.id}"' in page  # the lead page
    db.session.refresh(older)
    assert older.working_by_id == south.id

    # bad input: answered on the card, nothing written
    before = count(Narrative)
    response = client.post(f"/pre-vendas/pendentes/leads/{older.id}/registrar",
                           data={"kind": "call", "body": "  ", "motivo": "overdue"})
    assert response.status_code == 422 and "Descreva o que aconteceu." in response.get_data(as_text=True)
    response = client.post(f"/pre-vendas/pendentes/leads/{older.id}/registrar", data={"kind": "note", "body": "oi"})
    assert response.status_code == 422 and "Escolha como foi o contato." in response.get_data(as_text=True)
    assert count(Narrative) == before

    response = client.post(f"/pre-vendas/pendentes/leads/{older.id}/registrar",
                           data={"kind": "whatsapp", "body": "mandei a simulação", "motivo": "overdue"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert newer.name in page and "Lead novo aguardando primeiro contato" in page
    assert f"Contato registrado em {older.number}" in page
    db.session.expire_all()
    assert db.session.execute(select(Narrative).where(Narrative.lead_id == older.id)
                              .order_by(Narrative.id.desc())).scalars().first().kind == "system"  # schedule closed
    assert count(Narrative, Narrative.lead_id == older.id, Narrative.kind == "whatsapp") == 1
    assert count(Schedule, Schedule.lead_id == older.id, Schedule.done_at.is_(None)) == 0
    assert db.session.get(Lead, older.id).working_by_id is None

    response = client.post(f"/pre-vendas/pendentes/leads/{newer.id}/registrar",
                           data={"kind": "call", "body": "apresentei o empreendimento"}, follow_redirects=True)
    assert "Nada pendente agora." in response.get_data(as_text=True)


def test_skip_passes_over_leads_for_the_round(sales, client, sign_in, monday):
    south = sales["south_broker"]
    first, _, second, _ = [new_lead(i) for i in range(1, 5)]
    assert first.owner_id == second.owner_id == south.id
    sign_in(south)
    page = client.post("/pre-vendas/pendentes/proximo", follow_redirects=True).get_data(as_text=True)
    assert first.name in page
    page = client.post(f"/pre-vendas/pendentes/leads/{first.id}/pular", follow_redirects=True).get_data(as_text=True)
    assert second.name in page
    page = client.post(f"/pre-vendas/pendentes/leads/{second.id}/pular", follow_redirects=True).get_data(as_text=True)
    assert "Nada pendente agora." in page and "Você pulou 2 leads" in page
    db.session.expire_all()
    assert db.session.get(Lead, first.id).working_by_id is None and db.session.get(Lead, second.id).working_by_id is None
    page = client.post("/pre-vendas/pendentes/proximo", follow_redirects=True).get_data(as_text=True)
    assert first.name in page  # a new round starts over


# --- campaigns ----------------------------------------------------------------------------------------------------

def lost_leads(sales, n):
    reason = db.session.execute(select(LossReason).where(LossReason.name == "Sem interesse")).scalar_one()
    out = [new_lead(10 + i, name=f"Antigo {i}") for i in range(n)]
    for lead in out:
        mark_lost(lead, sales["admin"], reason.id)
    db.session.commit()
    return out, reason


def test_campaign_preview_writes_nothing(sales, client, sign_in):
    leads, reason = lost_leads(sales, 4)
    sign_in(sales["head"])
    form = client.get("/pre-vendas/campanhas/nova")
    assert form.status_code == 200 and "Pré-visualizar" in form.get_data(as_text=True)
    data = {"status": "lost", "loss_reason_id": str(reason.id), "development_id": str(sales["dev"].id)}
    response = client.post("/pre-vendas/campanhas/previa", data=data, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="campaign-form"' in body
    assert "<strong>4</strong> no segmento" in body and "<strong>4</strong> serão distribuídos" in body
    plain = client.post("/pre-vendas/campanhas/previa", data=data)
    assert plain.status_code == 200 and "<html" in plain.get_data(as_text=True)
    assert "<strong>4</strong> no segmento" in plain.get_data(as_text=True)
    assert count(Campaign) == 0 and count(CampaignLead) == 0
    db.session.expire_all()
    assert all(db.session.get(Lead, lead.id).status == "lost" for lead in leads)

    response = client.post("/pre-vendas/campanhas/previa", headers=HX,
                           data={"status": "lost", "no_contact_days": "muitos", "created_from": "31/02/2026"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Informe um número de dias" in body and "Data inválida" in body


def test_launch_assigns_and_the_page_shows_progress(sales, client, sign_in):
    leads, reason = lost_leads(sales, 4)
    sign_in(sales["head"])
    filters = {"status": "lost", "loss_reason_id": str(reason.id)}
    response = client.post("/pre-vendas/campanhas/nova", data={**filters, "name": " ", "queue_id": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Dê um nome à campanha." in body and "Escolha uma fila" in body
    response = client.post("/pre-vendas/campanhas/nova", data={**filters, "name": "x", "queue_id": sales["sdr_queue"].id})
    assert response.status_code == 422 and count(Campaign) == 0

    response = client.post("/pre-vendas/campanhas/nova", data={
        **filters, "name": "Retomada de março", "queue_id": str(sales["queue"].id),
        "script": "Olá! Temos condições novas no Jardim Europa."})
    assert response.status_code == 302
    campaign = db.session.execute(select(Campaign)).scalar_one()
    assert response.headers["Location"].endswith(f"/pre-vendas/campanhas/{campaign.id}")
    links = db.session.execute(select(CampaignLead).where(CampaignLead.outcome == "assigned")).scalars().all()
    assert len(links) == 4 and {link.user_id for link in links} == {u.id for u in sales["brokers"]}

    taken = db.session.get(Lead, links[0].lead_id)
    log_contact(taken, "call", "cliente gostou da condição", taken.owner)
    db.session.commit()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Retomada de março" in page and "Bruna Corretora" in page and "Carlos Corretor" in page
    assert "Olá! Temos condições novas no Jardim Europa." in page and "Sem interesse" in page
    assert page.count('data-label="Distribuídos">2</td>') == 2  # per rep
    total = page[page.index('class="work-total"'):]
    assert 'data-label="Distribuídos">4</td>' in total and 'data-label="Contatados">1</td>' in total
    listing = client.get("/pre-vendas/campanhas").get_data(as_text=True)
    assert "Retomada de março" in listing

    # the broker sees the script on the work card
    sign_in(taken.owner)
    card = client.get(f"/pre-vendas/pendentes/leads/{taken.id}").get_data(as_text=True)
    assert "Oferta ativa: Retomada de março" in card and "condições novas" in card


def test_campaigns_are_for_managers_and_scoped(sales, client, sign_in):
    lost_leads(sales, 2)
    from portal.presales.services import campaigns
    campaign = campaigns.launch(sales["head"], "Do diretor", {"status": "lost"}, sales["queue"].id)
    db.session.commit()
    sign_in(sales["south_broker"])
    assert client.get("/pre-vendas/campanhas").status_code == 403
    assert client.get("/pre-vendas/campanhas/nova").status_code == 403
    assert client.post("/pre-vendas/campanhas/previa", data={"status": "lost"}).status_code == 403
    assert client.post("/pre-vendas/campanhas/nova", data={"status": "lost", "name": "x"}).status_code == 403
    assert client.get(f"/pre-vendas/campanhas/{campaign.id}").status_code == 403
    sign_in(sales["south_mgr"])  # the head's campaign is above them
    assert client.get(f"/pre-vendas/campanhas/{campaign.id}").status_code == 404
    assert "Do diretor" not in client.get("/pre-vendas/campanhas").get_data(as_text=True)
    sign_in(sales["admin"])
    assert "Do diretor" in client.get(f"/pre-vendas/campanhas/{campaign.id}").get_data(as_text=True)
