"""Personalization dashboard and the three standard reports: scoped figures, drill-down lists, and PDFs/CSVs that
print the same numbers the dashboard shows."""
import io
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from pypdf import PdfReader

from portal.extensions import db
from portal.personalize.contracts import Contract, PaymentChoice
from portal.personalize.esign.models import Envelope
from portal.personalize.services import catalog, selections
from portal.personalize.services import dashboard as figures
from tests.factories import give_unit, make_development, make_user
from tests.personalize.conftest import NOW

LATER = NOW + timedelta(days=11)  # the world's window closed the day before


def _choose_and_submit(unit, actor, choices, items, options, submit=True):
    sel = selections.ensure_selection(unit)
    for item, option in choices:
        selections.choose(sel, items[item].id, options[option].id, actor)
    db.session.commit()
    db.session.refresh(sel)
    if submit:
        selections.submit(sel, sel.revision, actor)
        db.session.commit()
    return sel


def _contract(sel, method, installments, envelope_status=None, completed_at=None):
    contract = Contract(selection_id=sel.id, development_id=sel.development_id, status="rendered",
                        selection_revision=sel.revision, total_cents=sel.total_cents, payment_method=method,
                        installments=installments)
    db.session.add(contract)
    db.session.flush()
    if envelope_status:
        db.session.add(Envelope(contract_id=contract.id, selection_id=sel.id, development_id=sel.development_id,
                                provider="builtin", status=envelope_status, sent_at=NOW, completed_at=completed_at))
    db.session.commit()
    return contract


@pytest.fixture
def story(world):
    return build_story(world)


def build_story(world):
    """Residencial Bosque Verde, looked at on LATER (its only window closed on NOW + 10 days):
    Torre A: Ana signed (vinílico + gourmet, R$ 2.289,00, PIX 1x); Bruno's contract is out for signature
    (porcelanato + quartzo, R$ 3.900,00, cartão 10x); Carla left a draft (late).
    Torre B: Diego never started (late); Elisa submitted (vinílico, R$ 1.600,00, boleto 1x, no contract yet);
    one unit has no buyer (not in personalization).
    Another development (Edifício Mirante), with its own staff, has a submitted unit staff A must never see."""
    o, items = world["options"], world["items"]
    tower_a, tower_b = world["units"], sorted(world["dev"].towers[1].units, key=lambda u: u.number)
    carla = make_user("customer", name="Carla Atrasada")
    diego = make_user("customer", name="Diego Parado")
    elisa = make_user("customer", name="Elisa Enviada")
    give_unit(carla, tower_a[2])
    give_unit(diego, tower_b[0])
    give_unit(elisa, tower_b[1])
    ana = _choose_and_submit(tower_a[0], world["a"], [("sala", "vinilico"), ("torneira", "gourmet")], items, o)
    bruno = _choose_and_submit(tower_a[1], world["b"], [("sala", "porcelanato"), ("bancada", "quartzo")], items, o)
    _choose_and_submit(tower_a[2], carla, [("torneira", "gourmet")], items, o, submit=False)
    elisa_sel = _choose_and_submit(tower_b[1], elisa, [("sala", "vinilico")], items, o)
    _contract(ana, "pix", 1, "signed", completed_at=NOW + timedelta(days=2))
    _contract(bruno, "cartao", 10, "sent")
    db.session.add(PaymentChoice(selection_id=elisa_sel.id, method="boleto", installments=1))
    db.session.commit()

    other_staff = make_user("personalization", name="Otávio Outro")
    other = make_development("Edifício Mirante", towers=("Torre Única",), units_per_tower=2, staff=[other_staff])
    cat = catalog.save_category(other, {"name": "Revestimentos", "position": 1})
    item = catalog.save_item(other, {"category_id": cat.id, "name": "Parede do lavabo", "basis": "fixed",
                                     "typologies": {str(other.typologies[0].id): ""}})
    secret = catalog.save_option(item, {"name": "Mármore Secreto", "price": "7.777,00", "is_standard": False,
                                        "available": True})
    ze = make_user("customer", name="Zé Mirante")
    unit = sorted(other.towers[0].units, key=lambda u: u.number)[0]
    give_unit(ze, unit)
    sel = selections.ensure_selection(unit)
    selections.choose(sel, item.id, secret.id, other_staff)
    db.session.commit()
    db.session.refresh(sel)
    selections.submit(sel, sel.revision, other_staff)
    db.session.commit()
    return {**world, "carla": carla, "diego": diego, "elisa": elisa, "tower_a": tower_a, "tower_b": tower_b,
            "other": other, "other_staff": other_staff, "secret": secret, "other_selection": sel,
            "admin": make_user("admin")}


@pytest.fixture
def later():
    with time_machine.travel(LATER, tick=False) as traveller:
        yield traveller


def links(html: str) -> dict[str, dict]:
    """aria-label of each chart link → its path and query parameters."""
    out = {}
    for href, label in re.findall(r'<a class="chart-link" href="([^"]+)" aria-label="([^"]+)"', html):
        href = unescape(href)
        out[unescape(label)] = {"path": urlsplit(href).path,
                                **{k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}}
    return out


def stat(html: str, label: str) -> str:
    return unescape(re.search(r'<span class="stat-value">([^<]+)</span>\s*<span class="stat-label">' + label,
                              html).group(1))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def run_report(client, run_jobs, key, fmt="pdf", **params):
    r = client.post(f"/relatorios/{key}", data={"format": fmt, **params})
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    run_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    run_jobs()
    done = client.get(f"/relatorios/execucoes/{run_id}").get_data(as_text=True)
    assert "Concluído" in done or "Baixar" in done, done[:1000]
    return client.get(f"/relatorios/execucoes/{run_id}/arquivo")


def csv_lines(response) -> list[str]:
    return response.data.decode("utf-8-sig").splitlines()


# --- the query module -----------------------------------------------------------------------------------------

def test_progress_stages_windows_and_late_units(story, later):
    p = figures.progress(story["staff"])
    assert p.counts == {"not_started": 1, "draft": 1, "submitted": 1, "contract_sent": 1, "signed": 1}
    assert sorted(u.buyers[0] for u in p.late) == ["Carla Atrasada", "Diego Parado"]
    [window] = p.windows
    assert (window.name, window.late, window.total) == ("1ª janela", 2, 5)
    # before the deadline nobody is late
    assert figures.progress(story["staff"], now=NOW).late == []
    # the tower filter
    assert figures.progress(story["staff"], figures.Filters(tower_id=story["tower_b"][0].tower_id)).counts == {
        "not_started": 1, "draft": 0, "submitted": 1, "contract_sent": 0, "signed": 0}
    # admin sees both developments; the other staff only theirs
    assert figures.progress(story["admin"]).total == 6
    assert figures.progress(story["other_staff"]).counts["submitted"] == 1


def test_option_rows_count_only_submitted_selections(story):
    rows = figures.option_rows(story["staff"])
    got = [(r["tower"], r["item"], r["option"], r["units"], str(r["quantity"])) for r in rows]
    assert got == [
        ("Torre A", "Piso da sala", "Porcelanato 90x90", 1, "20.00"),
        ("Torre A", "Piso da sala", "Vinílico amadeirado", 1, "20.00"),
        ("Torre A", "Piso da sala", "Total do item (2 opções)", 2, "40.00"),
        ("Torre A", "Torneira da cozinha", "Torneira de mesa", 1, "1"),
        ("Torre A", "Torneira da cozinha", "Torneira gourmet", 1, "1"),  # Carla's draft gourmet is not counted
        ("Torre A", "Torneira da cozinha", "Total do item (2 opções)", 2, "2"),
        ("Torre A", "Bancada da cozinha", "Granito São Gabriel", 1, "1"),
        ("Torre A", "Bancada da cozinha", "Quartzo branco", 1, "1"),
        ("Torre A", "Bancada da cozinha", "Total do item (2 opções)", 2, "2"),
        ("Torre B", "Piso da sala", "Vinílico amadeirado", 1, "20.00"),
        ("Torre B", "Torneira da cozinha", "Torneira de mesa", 1, "1"),
        ("Torre B", "Bancada da cozinha", "Granito São Gabriel", 1, "1"),
    ]
    only_metais = figures.option_rows(story["staff"], figures.Filters(category_id=story["categories"]["metais"].id))
    assert {r["item"] for r in only_metais} == {"Torneira da cozinha"}
    assert "Mármore Secreto" not in {r["option"] for r in rows}


def test_contracted_rows_with_tower_and_development_totals(story):
    rows = figures.contracted_rows(story["staff"])
    got = [(r["kind"], r["tower"], r["unit"], r["total_cents"], r["payment"], r["status"]) for r in rows]
    a, b = story["tower_a"], story["tower_b"]
    assert got == [
        ("unit", "Torre A", a[0].number, 228_900, "PIX em 1x", "Assinado"),
        ("unit", "Torre A", a[1].number, 390_000, "Cartão de crédito em 10x", "Enviado para assinatura"),
        ("tower", "Torre A", "Total da torre", 618_900, "", "1 de 2 assinados"),
        ("unit", "Torre B", b[1].number, 160_000, "Boleto em 1x", "Sem contrato"),
        ("tower", "Torre B", "Total da torre", 160_000, "", "0 de 1 assinados"),
        ("development", "", "Total do empreendimento", 778_900, "", "1 de 3 assinados"),
    ]
    assert rows[0]["signed_at"] == NOW + timedelta(days=2)
    totals = figures.contracted_totals(rows)
    assert (totals["units"], totals["total_cents"], totals["signed_cents"]) == (3, 778_900, 228_900)


# --- the dashboard ----------------------------------------------------------------------------------------------

def test_dashboard_shows_the_figures_with_drill_down_links(story, later, client, login_as):
    login_as(story["staff"])
    r = client.get("/personalizacao/painel")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert stat(html, "Unidades em personalização") == "5"
    assert stat(html, "Contratos assinados") == "1"
    assert stat(html, "Atrasadas") == "2"
    assert stat(html, "Total contratado") == "R$ 7.789,00"
    assert "Carla Atrasada" in html and "Diego Parado" in html
    assert html.count("<svg") >= 3
    got = links(html)
    assert got["Não iniciada: 1"] == {"path": "/personalizacao/painel/unidades", "stage": "not_started"}
    assert got["Assinado: 1"] == {"path": "/personalizacao/painel/unidades", "stage": "signed"}
    vinilico = story["options"]["vinilico"]
    assert got["Piso da sala: Vinílico amadeirado: 2"] == {"path": "/personalizacao/painel/unidades",
                                                          "option": str(vinilico.id)}
    assert "Valor por forma de pagamento" in html and "Só contam personalizações enviadas" in html
    for key in ("personalize.options", "personalize.values", "personalize.progress"):
        assert f'href="/relatorios/{key}?format=pdf"' in html and f'href="/relatorios/{key}?format=csv"' in html
    # the home page and the menu lead here
    assert 'href="/personalizacao/painel"' in client.get("/personalizacao/").get_data(as_text=True)


def test_drill_down_lists_are_filtered_and_paginated(story, later, client, login_as):
    login_as(story["staff"])
    html = client.get("/personalizacao/painel/unidades?late=y").get_data(as_text=True)
    assert "Carla Atrasada" in html and "Diego Parado" in html and "Ana Compradora" not in html
    assert "2 unidades" in html
    vinilico = story["options"]["vinilico"]
    html = client.get(f"/personalizacao/painel/unidades?option={vinilico.id}").get_data(as_text=True)
    assert "Ana Compradora" in html and "Elisa Enviada" in html and "Bruno Comprador" not in html
    html = client.get("/personalizacao/painel/unidades?stage=contract_sent").get_data(as_text=True)
    assert "Bruno Comprador" in html and "Ana Compradora" not in html and "1 unidade" in html
    window = story["window"]
    html = client.get(f"/personalizacao/painel/unidades?window={window.id}&stage=draft").get_data(as_text=True)
    assert "Carla Atrasada" in html and "Diego Parado" not in html
    html = client.get("/personalizacao/painel/unidades?page=9").get_data(as_text=True)  # clamps to the last page
    assert "Ana Compradora" in html


def test_drill_down_paginates(story, later, client, login_as, monkeypatch):
    from portal.personalize.web import dashboard as web
    monkeypatch.setattr(web, "PER_PAGE", 2)
    login_as(story["staff"])
    first = client.get("/personalizacao/painel/unidades").get_data(as_text=True)
    assert "Página 1 de 3 · 5 unidades" in first and "Ana Compradora" in first and "Elisa Enviada" not in first
    last = client.get("/personalizacao/painel/unidades?page=3").get_data(as_text=True)
    assert "Elisa Enviada" in last and "Ana Compradora" not in last


@pytest.mark.parametrize("query, field, reason", [
    ("development=abc", "development", "Escolha inválida."),
    ("tower=999999", "tower", "Escolha inválida."),
    ("stage=perdida", "stage", "Escolha inválida."),
    ("page=0", "page", "O valor não pode ser menos do que 1."),
    ("option=abc", "option", "O valor inteiro não é válido."),
])
def test_bad_filters_answer_422_with_the_reason(story, client, login_as, query, field, reason):
    login_as(story["staff"])
    r = client.get(f"/personalizacao/painel/unidades?{query}")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert re.search(rf'<div id="{field}-error"><p class="error" role="alert">{re.escape(reason)}</p>', html)


def test_bad_dashboard_filters_and_mismatched_ones(story, client, login_as):
    login_as(story["staff"])
    r = client.get("/personalizacao/painel?development=abc")
    assert r.status_code == 422 and 'id="development-error"' in r.get_data(as_text=True)
    other_item = story["secret"].item_id
    # an item of a development outside the scope is not a choice; a tower of another development is refused
    r = client.get(f"/personalizacao/painel?item={other_item}")
    assert r.status_code == 422 and 'id="item-error"' in r.get_data(as_text=True)
    dev2 = make_development("Vila Nova", staff=[story["staff"]])
    r = client.get(f"/personalizacao/painel?development={dev2.id}&tower={story['tower_a'][0].tower_id}")
    assert r.status_code == 422 and "não pertence ao empreendimento" in r.get_data(as_text=True)
    r = client.post("/relatorios/personalize.options", data={"format": "pdf", "development": str(story["other"].id)})
    assert r.status_code == 422


def test_a_staff_user_never_sees_another_development(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    other = story["other"]
    pages = [client.get("/personalizacao/painel").get_data(as_text=True),
             client.get("/personalizacao/painel/unidades").get_data(as_text=True)]
    for key in ("personalize.options", "personalize.values", "personalize.progress"):
        pages.append(pdf_text(run_report(client, run_jobs, key).data))
        pages.append(run_report(client, run_jobs, key, fmt="csv").data.decode("utf-8-sig"))
    for text in pages:
        assert "Mirante" not in text and "Mármore Secreto" not in text and "7.777" not in text
    # asking for it by id is refused, not answered
    assert client.get(f"/personalizacao/painel/unidades?development={other.id}").status_code == 422
    assert client.get(f"/personalizacao/painel/unidades?option={story['secret'].id}").status_code == 422
    assert client.get(f"/personalizacao/painel?development={other.id}").status_code == 422
    # the other development's staff sees theirs and not ours
    client.post("/logout")
    login_as(story["other_staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    assert "Mármore Secreto" in html and "Ana Compradora" not in html and "Vinílico" not in html
    assert "Ana Compradora" not in client.get("/personalizacao/painel/unidades").get_data(as_text=True)


def test_roles(story, client, login_as):
    login_as(make_user("broker"))
    assert client.get("/personalizacao/painel").status_code == 403
    assert client.get("/relatorios/personalize.values").status_code == 403
    client.post("/logout")
    login_as(story["admin"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    assert "Mármore Secreto" in html and "Vinílico amadeirado" in html


def test_dashboard_shows_the_satisfaction_survey_of_its_developments(story, later, client, login_as):
    from portal.personalize.surveys import SatisfactionSurvey

    def survey(selection, user, score=None, comment="", nonce=""):
        envelope = db.session.query(Envelope).filter_by(selection_id=selection.id).one_or_none()
        if envelope is None:  # the other development's unit gets its signed contract here
            _contract(selection, "pix", 1, "signed", completed_at=NOW)
            envelope = db.session.query(Envelope).filter_by(selection_id=selection.id).one()
        db.session.add(SatisfactionSurvey(envelope_id=envelope.id, development_id=selection.development_id,
                                          unit_id=selection.unit_id, user_id=user.id, nonce=nonce, sent_at=NOW,
                                          score=score, comment=comment, answered_at=LATER if score else None))
        db.session.commit()

    ana_sel = selections.get_selection(story["tower_a"][0])
    survey(ana_sel, story["a"], 5, "Adorei o atendimento", "n1")
    survey(ana_sel, story["b"], nonce="n2")  # sent, not answered
    survey(story["other_selection"], story["other_staff"], 1, "Comentário do Mirante", "n3")
    login_as(story["staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    assert "<strong>2</strong> enviadas" in html and "<strong>1</strong> respondidas (50 %)" in html
    assert "<strong>5,00</strong> nota média" in html and "Adorei o atendimento" in html
    assert "Comentário do Mirante" not in html and 'aria-label="Notas de 1 a 5"' in html
    client.post("/logout")
    login_as(story["other_staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    assert "Comentário do Mirante" in html and "Adorei o atendimento" not in html


# --- the reports: the same figures as the dashboard ----------------------------------------------------------------

def test_progress_report_pdf_holds_the_dashboards_figures(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    text = pdf_text(run_report(client, run_jobs, "personalize.progress").data)
    assert "Andamento da personalização" in text
    assert re.search(r"Unidades em personalização\s*" + stat(html, "Unidades em personalização"), text)
    assert re.search(r"Contratos assinados\s*" + stat(html, "Contratos assinados"), text)
    assert re.search(r"Atrasadas\s*" + stat(html, "Atrasadas"), text)
    for label in ("Não iniciada", "Rascunho", "Enviada", "Contrato enviado", "Assinado"):
        figure = re.search(r"<strong>(\d+)</strong> " + label.lower(), html).group(1)
        assert figure == "1" and re.search(label + r"\s*" + figure, text)
    # the window row: 1 per stage, 2 late, 5 in all; then the late units with their deadline
    assert re.search(r"1ª janela\s+12/03/2026 10:00\s+1\s+1\s+1\s+1\s+1\s+2\s+5", text)
    assert "Unidades atrasadas (2)" in text and "Carla Atrasada" in text and "Diego Parado" in text
    assert "Ana Compradora" not in text.split("Unidades atrasadas")[1]


def test_progress_report_csv(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    lines = csv_lines(run_report(client, run_jobs, "personalize.progress", fmt="csv"))
    assert lines[0] == "Empreendimento;Torre;Unidade;Compradores;Situação;Janela;Prazo;Atrasada"
    a, b = story["tower_a"], story["tower_b"]
    assert lines[1:] == [
        f"Residencial Bosque Verde;Torre A;{a[0].number};Ana Compradora;Assinado;1ª janela;12/03/2026 10:00;Não",
        f"Residencial Bosque Verde;Torre A;{a[1].number};Bruno Comprador;Contrato enviado;1ª janela;12/03/2026 10:00;Não",
        f"Residencial Bosque Verde;Torre A;{a[2].number};Carla Atrasada;Rascunho;1ª janela;12/03/2026 10:00;Sim",
        f"Residencial Bosque Verde;Torre B;{b[0].number};Diego Parado;Não iniciada;1ª janela;12/03/2026 10:00;Sim",
        f"Residencial Bosque Verde;Torre B;{b[1].number};Elisa Enviada;Enviada;1ª janela;12/03/2026 10:00;Não",
    ]
    tower_b = str(b[0].tower_id)
    lines = csv_lines(run_report(client, run_jobs, "personalize.progress", fmt="csv", tower=tower_b))
    assert len(lines) == 3 and all(";Torre B;" in line for line in lines[1:])


def test_values_report_pdf_holds_the_dashboards_figures(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    text = pdf_text(run_report(client, run_jobs, "personalize.values").data)
    total = stat(html, "Total contratado")
    assert total == "R$ 7.789,00" and re.search(r"Total contratado\s*R\$ 7\.789,00", text)
    assert re.search(r"Assinado\s*R\$ 2\.289,00", text) and "R$ 2.289,00" in html
    a = story["tower_a"]
    assert re.search(rf"Torre A\s+{a[0].number}\s+Ana Compradora\s+R\$ 2\.289,00\s+PIX em 1x\s+Assinado\s+04/03/2026",
                     text)
    assert re.search(r"Total da torre\s+R\$ 6\.189,00", text) and "R$ 6.189,00" in html
    assert re.search(r"Total do\s+empreendimento\s+R\$ 7\.789,00", text)
    assert re.search(r"Cartão de crédito em\s+10x", text) and re.search(r"Enviado para\s+assinatura", text)
    assert "Sem contrato" in text


def test_values_report_csv(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    lines = csv_lines(run_report(client, run_jobs, "personalize.values", fmt="csv"))
    a, b = story["tower_a"], story["tower_b"]
    assert lines == [
        "Empreendimento;Torre;Unidade;Compradores;Total contratado;Pagamento;Contrato;Assinado em",
        f"Residencial Bosque Verde;Torre A;{a[0].number};Ana Compradora;2.289,00;PIX em 1x;Assinado;04/03/2026",
        f"Residencial Bosque Verde;Torre A;{a[1].number};Bruno Comprador;3.900,00;Cartão de crédito em 10x;"
        "Enviado para assinatura;",
        "Residencial Bosque Verde;Torre A;Total da torre;;6.189,00;;1 de 2 assinados;",
        f"Residencial Bosque Verde;Torre B;{b[1].number};Elisa Enviada;1.600,00;Boleto em 1x;Sem contrato;",
        "Residencial Bosque Verde;Torre B;Total da torre;;1.600,00;;0 de 1 assinados;",
        "Residencial Bosque Verde;;Total do empreendimento;;7.789,00;;1 de 3 assinados;",
    ]


def test_options_report_pdf_holds_the_dashboards_figures(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    html = client.get("/personalizacao/painel").get_data(as_text=True)
    text = pdf_text(run_report(client, run_jobs, "personalize.options").data)
    assert "Só contam personalizações enviadas" in text
    assert re.search(r"Unidades enviadas\s*3", text)
    assert re.search(r"Torre A\s+Piso\s+Piso da sala\s+Vinílico amadeirado\s+1\s+20,00\s+m²", text)
    assert re.search(r"Torre A\s+Piso\s+Piso da sala\s+Total do item \(2 opções\)\s+2\s+40,00\s+m²", text)
    assert re.search(r"Torre B\s+Metais\s+Torneira da cozinha\s+Torneira de mesa\s+1\s+1\s+un\.", text)
    # the dashboard's table has the very same rows
    assert re.search(r"Total do item \(2 opções\)<div[^>]*>Torre A · Piso da sala</div></td>\s*"
                     r"<td class=\"num\"><a [^>]+>2</a></td>\s*"
                     r"<td class=\"num\">40,00 m²</td>", html)
    assert "Piso da sala: Vinílico amadeirado: 2" in html


def test_options_report_csv_and_filters(story, later, client, login_as, run_jobs):
    login_as(story["staff"])
    metais = story["categories"]["metais"]
    lines = csv_lines(run_report(client, run_jobs, "personalize.options", fmt="csv", category=str(metais.id)))
    assert lines == [
        "Empreendimento;Torre;Categoria;Item;Opção;Unidades;Quantidade;Medida",
        "Residencial Bosque Verde;Torre A;Metais;Torneira da cozinha;Torneira de mesa;1;1;un.",
        "Residencial Bosque Verde;Torre A;Metais;Torneira da cozinha;Torneira gourmet;1;1;un.",
        "Residencial Bosque Verde;Torre A;Metais;Torneira da cozinha;Total do item (2 opções);2;2;un.",
        "Residencial Bosque Verde;Torre B;Metais;Torneira da cozinha;Torneira de mesa;1;1;un.",
    ]
    sala = story["items"]["sala"]
    tower_b = str(story["tower_b"][0].tower_id)
    lines = csv_lines(run_report(client, run_jobs, "personalize.options", fmt="csv", item=str(sala.id), tower=tower_b))
    assert lines[1:] == ["Residencial Bosque Verde;Torre B;Piso;Piso da sala;Vinílico amadeirado;1;20,00;m²"]
    # the dashboard with the same filter shows the same single row
    html = client.get(f"/personalizacao/painel?item={sala.id}&tower={tower_b}").get_data(as_text=True)
    assert "Piso da sala: Vinílico amadeirado: 1" in html and "Porcelanato 90x90" not in html
