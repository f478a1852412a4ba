"""Pre-sales dashboard and the three standard reports: scoped figures, drill-down links, and PDFs/CSVs
that print the same numbers the dashboard shows."""
import io
import re
from datetime import date, datetime, timezone
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from portal.extensions import db
from portal.presales import metrics
from portal.presales.models import Channel, LossReason, Media, Stage
from portal.presales.services.intake import intake
from portal.presales.services.leads import log_contact, mark_lost, move_to_stage
from portal.presales.services.schedules import add_schedule, complete_schedule

SP = ZoneInfo("America/Sao_Paulo")
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
NOW = "2026-03-10 12:00"  # when the dashboard is looked at


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def new_lead(i, channel="site", media="google", **over):
    data = {"name": f"Cliente {i:02d}", "email": f"cliente{i}@exemplo.com.br", "phone": f"+5511987600{i:03d}",
            "channel": channel, "media": media, "development": "jardim-europa", **over}
    lead = intake(data).lead
    db.session.commit()
    return lead


def stage(name) -> Stage:
    return db.session.execute(select(Stage).where(Stage.name == name)).scalar_one()


def by_name(model, name):
    return db.session.execute(select(model).where(model.name == name)).scalar_one()


@pytest.fixture
def story(sales):
    """March 2026. The roleta alternates south/north brokers; a WhatsApp lead goes to the SDR.

    south (Bruna): A answered in 10 min (on time); C answered in 90 min (late), then lost "Fora do orçamento".
    north (Carlos): B answered in 40 min (on time), moved to "Visita agendada" with a visit that is done
                    and a call back that is overdue by NOW, negotiating R$ 450.000,00; D never answered.
    SDR (Sérgio, team Comercial): E from WhatsApp/Instagram never answered.
    One more lead from February that no March figure counts."""
    south, north, sdr = sales["south_broker"], sales["north_broker"], sales["sdr"]
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        a = new_lead(1, name="Fernanda Rocha")
        b = new_lead(2, name="Ricardo Nunes", media="instagram")
        c = new_lead(3, name="Juliana Prado")
        d = new_lead(4, name="Tiago Moreira", channel="manual", media="facebook")
        e = new_lead(5, name="Camila Duarte", channel="whatsapp", media="instagram")
    assert [x.owner_id for x in (a, b, c, d, e)] == [south.id, north.id, south.id, north.id, sdr.id]
    with time_machine.travel(at("2026-02-20 10:00"), tick=False):
        old = new_lead(90, name="Lead de Fevereiro")
    with time_machine.travel(at("2026-03-02 10:10"), tick=False):
        log_contact(a, "call", "Primeiro contato, quer visitar", south)
    with time_machine.travel(at("2026-03-02 10:40"), tick=False):
        log_contact(b, "whatsapp", "Respondeu no WhatsApp", north)
        move_to_stage(b, stage("Visita agendada"), north, values={"interest_level": "high"})
        visit = add_schedule(b, north, "visit", at("2026-03-04 15:00"), "Visita ao decorado")
        add_schedule(b, north, "call", at("2026-03-06 09:00"), "Retornar sobre a proposta")
    with time_machine.travel(at("2026-03-02 11:30"), tick=False):
        log_contact(c, "call", "Ligação fora do prazo", south)
        log_contact(c, "note", "Cliente pediu valores", south)
    with time_machine.travel(at("2026-03-02 12:00"), tick=False):
        mark_lost(c, south, by_name(LossReason, "Fora do orçamento").id, "Achou caro demais para a renda")
    with time_machine.travel(at("2026-03-04 15:30"), tick=False):
        complete_schedule(visit, north, "Gostou da unidade 52")
    b.negotiated_value_cents, b.sales_status = 45_000_000, "Em negociação"
    db.session.commit()
    return {**sales, "a": a, "b": b, "c": c, "d": d, "e": e, "old": old}


def figures(user, **params):
    return metrics.from_params(user, {"start": date(2026, 3, 1), "end": date(2026, 3, 31), **params}, now=at(NOW))


def links(html: str) -> dict[str, dict]:
    """aria-label of each chart link → its query parameters."""
    out = {}
    for href, label in re.findall(r'<a class="chart-link" href="([^"]+)" aria-label="([^"]+)"', html):
        href = unescape(href)
        out[unescape(label)] = {"path": urlsplit(href).path,
                                **{k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}}
    return out


# --- metrics ----------------------------------------------------------------------------------------------------

def test_period_is_local_days_in_utc_and_defaults_to_the_current_month(app):
    p = metrics.Period(date(2026, 3, 1), date(2026, 3, 31))
    assert p.utc_start == datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc)  # midnight in São Paulo
    assert p.utc_end == datetime(2026, 4, 1, 3, 0, tzinfo=timezone.utc)
    with time_machine.travel(at("2026-02-14 23:30"), tick=False):
        assert metrics.Period.resolve() == metrics.Period(date(2026, 2, 1), date(2026, 2, 28))
    assert metrics.Period.resolve(start=date(2026, 3, 10)) == metrics.Period(date(2026, 3, 10), date(2026, 3, 31))
    assert metrics.Period.resolve(end=date(2026, 4, 5)) == metrics.Period(date(2026, 4, 1), date(2026, 4, 5))


def test_head_of_sales_figures(story):
    m = figures(story["head"])
    assert (m.total, m.open, m.won, m.lost) == (5, 4, 0, 1)
    funnel = {s.stage.name: (s.reached, s.current) for s in m.funnel}
    assert funnel == {"Novo (SDR)": (4, 1), "Em qualificação (SDR)": (3, 0), "Atendimento": (3, 2),
                      "Visita agendada": (1, 1), "Proposta": (0, 0), "Ganho": (0, 0)}
    assert [round(s.rate, 1) if s.rate is not None else None for s in m.funnel] == [None, 75.0, 100.0, 33.3, 0.0, None]
    assert [(s.label, s.count) for s in m.by_channel] == [("Site", 3), ("Manual", 1), ("WhatsApp", 1)]
    assert [(s.label, s.count) for s in m.by_media] == [("Google", 2), ("Instagram", 2), ("Facebook", 1)]
    assert [(s.label, s.count) for s in m.by_owner] == [("Bruna Corretora", 2), ("Carlos Corretor", 2),
                                                         ("Sérgio SDR", 1)]
    assert sorted((s.label, s.count) for s in m.by_team) == [("Comercial", 1), ("Zona Norte", 2), ("Zona Sul", 2)]
    sla = m.sla
    assert (sla.on_time, sla.answered_late, sla.missed, sla.pending) == (2, 1, 2, 0)
    assert round(sla.percent, 1) == 40.0
    assert sla.buckets == {"le15": 1, "le60": 1, "le240": 1, "gt240": 0}
    assert [(s.label, s.count, s.share) for s in m.loss_reasons] == [("Fora do orçamento", 1, 100.0)]
    assert m.schedules == {"done": {"visit": 1}, "overdue": {"call": 1}, "upcoming": {}}
    assert m.negotiation_totals == (1, 45_000_000)
    assert [r["number"] for r in m.negotiations()] == [story["b"].number]


def test_a_managers_numbers_exclude_other_teams(story):
    m = figures(story["south_mgr"])
    assert (m.total, m.open, m.lost) == (2, 1, 1)
    assert [(s.label, s.count) for s in m.by_owner] == [("Bruna Corretora", 2)]
    assert (m.sla.on_time, m.sla.late, round(m.sla.percent, 1)) == (1, 1, 50.0)
    assert m.schedule_count() == 0 and m.negotiation_totals == (0, 0)
    # a team filter cannot widen the scope: the head's other team is simply empty for her
    assert figures(story["south_mgr"], team=story["north"].id).total == 0
    # the head filtering by Zona Norte gets only that team
    north = figures(story["head"], team=story["north"].id)
    assert (north.total, north.sla.on_time, north.sla.missed) == (2, 1, 1)
    # a broker sees only their own
    assert figures(story["north_broker"]).total == 2


def test_activities_by_rep_kind_and_local_day(story):
    rows = figures(story["head"]).activities()
    by = {(r["day"], r["author"]): r for r in rows}
    bruna = by[(date(2026, 3, 2), "Bruna Corretora")]
    assert (bruna["call"], bruna["note"], bruna["stage"], bruna["total"]) == (2, 1, 1, 4)
    carlos = by[(date(2026, 3, 2), "Carlos Corretor")]
    assert (carlos["whatsapp"], carlos["stage"], carlos["total"]) == (1, 1, 2)
    assert all(r["author"] != "Sérgio SDR" for r in rows)


# --- dashboard ----------------------------------------------------------------------------------------------------

def test_dashboard_shows_the_figures_with_drill_down_links(story, client, login_as):
    login_as(story["head"])
    with time_machine.travel(at(NOW), tick=False):
        r = client.get("/pre-vendas/painel/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Painel de pré-vendas" in html and "01/03/2026 a 31/03/2026" in html
    assert "40,0 %" in html and "R$ 450.000,00" in html and story["b"].number in html
    assert "Lead de Fevereiro" not in html
    assert html.count("<svg") >= 7
    got = links(html)
    period = {"created_from": "2026-03-01", "created_to": "2026-03-31"}
    site = by_name(Channel, "Site")
    assert got["Site: 3"] == {"path": "/pre-vendas/leads", "channel": str(site.id), **period}
    assert got["Instagram: 2"]["media"] == str(by_name(Media, "Instagram").id)
    assert got["Atendimento: 3"] == {"path": "/pre-vendas/leads", "stage": str(stage("Atendimento").id), **period}
    assert got["Bruna Corretora: 2"]["owner"] == str(story["south_broker"].id)
    assert got["Zona Sul: 2"]["team"] == str(story["south"].id)
    assert got["Fora do orçamento: 1"] == {"path": "/pre-vendas/leads", "status": "lost",
                                           "loss_reason": str(by_name(LossReason, "Fora do orçamento").id), **period}
    assert got["Até 15 min: 1"] == {"path": "/pre-vendas/leads", "response": "le15", "due_from": "2026-03-01",
                                    "due_to": "2026-03-31"}
    assert got["Atrasados: 1"] == {"path": "/pre-vendas/leads", "schedule": "overdue",
                                   "scheduled_from": "2026-03-01", "scheduled_to": "2026-03-31"}
    # the reports, for the same period
    for key in ("presales.service", "presales.feedback", "presales.activities"):
        assert f'href="/relatorios/{key}?format=pdf&amp;start=2026-03-01&amp;end=2026-03-31"' in html


def test_dashboard_filters_keep_their_values_in_the_links(story, client, login_as):
    login_as(story["head"])
    dev, team = story["dev"].id, story["north"].id
    with time_machine.travel(at(NOW), tick=False):
        html = client.get(f"/pre-vendas/painel/?start=2026-03-01&end=2026-03-15&development={dev}&team={team}"
                          ).get_data(as_text=True)
    got = links(html)
    assert set(got) >= {"Site: 1", "Manual: 1"} and "WhatsApp: 1" not in got
    assert got["Site: 1"]["team"] == str(team) and got["Site: 1"]["development"] == str(dev)
    assert got["Site: 1"]["created_to"] == "2026-03-15"
    assert (f'href="/relatorios/presales.service?format=pdf&amp;start=2026-03-01&amp;end=2026-03-15'
            f'&amp;development={dev}&amp;team={team}"') in html


def test_a_managers_dashboard_and_bad_period(story, client, login_as):
    login_as(story["south_mgr"])
    with time_machine.travel(at(NOW), tick=False):
        html = client.get("/pre-vendas/painel/?start=2026-03-01&end=2026-03-31").get_data(as_text=True)
        assert "Bruna Corretora" in html and "Carlos Corretor" not in html and "Sérgio SDR" not in html
        assert "50,0 %" in html
        bad = client.get("/pre-vendas/painel/?start=2026-03-31&end=2026-03-01")
    assert bad.status_code == 200 and "A data final deve ser igual ou posterior à inicial." in bad.get_data(as_text=True)


def test_a_broker_sees_their_own_dashboard_without_team_charts_or_reports(story, client, login_as):
    login_as(story["south_broker"])
    with time_machine.travel(at(NOW), tick=False):
        html = client.get("/pre-vendas/painel/").get_data(as_text=True)
    assert "Leads por canal" in html and "Leads por equipe" not in html and "Baixar PDF" not in html
    assert "Ricardo Nunes" not in html and "R$ 450.000,00" not in html


def test_empty_period_and_roles(story, client, login_as):
    login_as(story["head"])
    html = client.get("/pre-vendas/painel/?start=2020-01-01&end=2020-01-31").get_data(as_text=True)
    assert "Nenhum lead no período." in html and 'class="chart-link"' not in html
    from tests.factories import make_user
    client.post("/logout")
    login_as(make_user("csm"))
    assert client.get("/pre-vendas/painel/").status_code == 403


# --- reports ----------------------------------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def run_report(client, run_jobs, key, fmt="pdf", **params):
    # the dashboard's "Baixar PDF" opens the report page with the period filled in
    page = client.get(f"/relatorios/{key}", query_string={"format": fmt, **params}).get_data(as_text=True)
    assert f'value="{params["start"]}"' in page and f'value="{params["end"]}"' in page
    r = client.post(f"/relatorios/{key}", data={"format": fmt, **params})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    run_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    run_jobs()
    done = client.get(f"/relatorios/execucoes/{run_id}").get_data(as_text=True)
    assert "Concluído" in done or "Baixar" in done, done[:1000]
    return client.get(f"/relatorios/execucoes/{run_id}/arquivo")


def test_service_report_pdf_holds_the_dashboards_numbers(story, client, login_as, run_jobs):
    login_as(story["head"])
    with time_machine.travel(at(NOW), tick=True):
        html = client.get("/pre-vendas/painel/").get_data(as_text=True)
        r = run_report(client, run_jobs, "presales.service", **MARCH)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    sla = re.search(r'<span class="stat-value">([\d,]+ %)</span>\s*<span class="stat-label">SLA', html).group(1)
    assert sla == "40,0 %" and sla in text
    received = re.search(r'<span class="stat-value">(\d+)</span>\s*<span class="stat-label">Leads recebidos', html)
    assert received.group(1) == "5"
    # rep, received, answered, on time, late, pending, SLA, median, mean (minutes 10 and 90; 40; none)
    assert re.search(r"Bruna Corretora\s+2\s+2\s+1\s+1\s+0\s+50,0 %\s+50,0\s+50,0", text)
    assert re.search(r"Carlos Corretor\s+2\s+1\s+1\s+1\s+0\s+50,0 %\s+40,0\s+40,0", text)
    assert re.search(r"Sérgio SDR\s+1\s+0\s+0\s+1\s+0\s+0,0 %", text)
    assert re.search(r"Total\s+5\s+3\s+2\s+3\s+0\s+40,0 %\s+40,0\s+46,7", text)
    assert "Leads recebidos" in text and "Mediana da 1ª resposta" in text and "40,0 min" in text
    assert "De: 01/03/2026" in text and "Até: 31/03/2026" in text


def test_service_report_csv(story, client, login_as, run_jobs):
    login_as(story["south_mgr"])
    with time_machine.travel(at(NOW), tick=True):
        r = run_report(client, run_jobs, "presales.service", fmt="csv", **MARCH)
    lines = r.data.decode("utf-8-sig").splitlines()
    assert lines[0] == ("Equipe;Responsável;Recebidos;Respondidos;No prazo;Fora do prazo;Em andamento;SLA no prazo;"
                        "Mediana (min);Média (min)")
    assert lines[1:] == ["Zona Sul;Bruna Corretora;2;2;1;1;0;50,0;50,0;50,0", ";Total;2;2;1;1;0;50,0;50,0;50,0"]


def test_feedback_report_has_loss_reasons_notes_and_the_survey_figures(story, client, login_as, run_jobs):
    login_as(story["head"])
    with time_machine.travel(at(NOW), tick=True):
        page = client.get("/relatorios/presales.feedback").get_data(as_text=True)
        assert "pesquisa de satisfação com a pré-venda" in page
        r = run_report(client, run_jobs, "presales.feedback", **MARCH)
        csv_r = run_report(client, run_jobs, "presales.feedback", fmt="csv", **MARCH)
    text = pdf_text(r.data)
    assert re.search(r"Fora do orçamento\s+1\s+100,0 %", text)
    assert "Achou caro demais para a renda" in text and story["c"].number in text
    assert re.search(r"Leads\s+que\s+entraram", text) and "20,0 %" in text  # 1 lost of 5
    assert "não tem pesquisa de satisfação" not in text
    assert re.search(r"Pesquisas\s+enviadas\s+0\s+Respondidas\s+0\s+Nota\s+média\s+—", text), text
    assert csv_r.data.decode("utf-8-sig").splitlines() == ["Motivo da perda;Leads;Participação",
                                                           "Fora do orçamento;1;100,0"]


def test_activities_report_pdf_and_csv(story, client, login_as, run_jobs):
    login_as(story["head"])
    with time_machine.travel(at(NOW), tick=True):
        r = run_report(client, run_jobs, "presales.activities", fmt="csv", **MARCH)
        pdf = run_report(client, run_jobs, "presales.activities", **MARCH)
    lines = r.data.decode("utf-8-sig").splitlines()
    assert lines[0] == ("Dia;Responsável;Ligação;E-mail;WhatsApp;Visita;Reunião;Anotação;Mudança de etapa;"
                        "Qualificação;Total")
    assert "02/03/2026;Bruna Corretora;2;0;0;0;0;1;1;0;4" in lines
    assert "02/03/2026;Carlos Corretor;0;0;1;0;0;0;1;0;2" in lines
    text = pdf_text(pdf.data)
    assert "Atividades de pré-vendas" in text and "Contatos com clientes" in text
    assert re.search(r"02/03/2026\s+Bruna Corretora\s+2\s+0\s+0\s+0\s+0\s+1\s+1\s+0\s+4", text)


def test_reports_are_for_managers_and_admins(story, client, login_as):
    login_as(story["south_broker"])
    assert client.get("/relatorios/presales.service").status_code == 403
