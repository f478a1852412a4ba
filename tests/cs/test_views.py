"""CS screens through the test client: who sees what (CSM: own portfolio, leader: team, others 404/403),
forms answer bad input next to the fields (422), htmx gets the partial, every action also works as a
plain post."""
import io
import re

import time_machine
from sqlalchemy import func, select

from portal.cs.models import Account, Contact, Touchpoint
from portal.cs.settings import get_settings
from portal.extensions import db
from tests.cs.conftest import at, make_account, new_cnpj

HX = {"HX-Request": "true"}


def test_pages_render_for_the_csm_and_foreign_accounts_are_404(client, login_as, cs_team, catalog):
    mine = make_account(cs_team["caio"], name="Minha Conta", product_ids=[catalog["expenses"].id])
    theirs = make_account(cs_team["outsider"], name="Conta de Fora")
    login_as(cs_team["caio"])
    for path in ("/sucesso/", "/sucesso/pendencias", "/sucesso/jornada", "/sucesso/contas",
                 f"/sucesso/contas/{mine.id}", f"/sucesso/contas/{mine.id}/editar"):
        response = client.get(path)
        assert response.status_code == 200, path
    listing = client.get("/sucesso/contas").get_data(as_text=True)
    assert "Minha Conta" in listing and "Conta de Fora" not in listing
    assert client.get(f"/sucesso/contas/{theirs.id}").status_code == 404
    assert client.post(f"/sucesso/contas/{theirs.id}/fase", data={"phase": "adoption"}).status_code == 404
    assert client.get("/sucesso/configuracoes").status_code == 403
    assert client.get("/sucesso/contas/nova").status_code == 403
    assert client.get("/sucesso/importar").status_code == 403


def test_leader_sees_the_team_and_the_settings(client, login_as, cs_team):
    make_account(cs_team["bia"], name="Conta da Bia")
    make_account(cs_team["outsider"], name="Conta de Fora")
    login_as(cs_team["leader"])
    listing = client.get("/sucesso/contas").get_data(as_text=True)
    assert "Conta da Bia" in listing and "Conta de Fora" not in listing
    for path in ("/sucesso/configuracoes", "/sucesso/configuracoes/segmentacao", "/sucesso/configuracoes/jornada",
                 "/sucesso/configuracoes/saude", "/sucesso/configuracoes/produtos", "/sucesso/configuracoes/alertas",
                 "/sucesso/importar", "/sucesso/contas/nova"):
        assert client.get(path).status_code == 200, path


def test_account_form_validates_and_creates(client, login_as, cs_team, catalog):
    login_as(cs_team["leader"])
    bad = client.post("/sucesso/contas/nova", data={"name": "", "cnpj": "12.345.678/0001-00", "mrr": "dois mil",
                                                    "employees": "-3", "renewal_date": "2026-01-01",
                                                    "contract_start": "2026-02-01"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for message in ("Informe o nome da empresa.", "CNPJ inválido.", "Informe um valor em reais",
                    "A renovação precisa ser depois do início do contrato."):
        assert message in html
    assert db.session.scalar(select(func.count(Account.id))) == 0
    cnpj = new_cnpj()
    good = client.post("/sucesso/contas/nova", data={
        "name": "Construtora Horizonte S.A.", "cnpj": cnpj, "employees": "101", "mrr": "2.000,00",
        "product_ids": [str(catalog["expenses"].id)], "csm_id": str(cs_team["caio"].id), "contact_points": "2"})
    assert good.status_code == 302
    account = db.session.execute(select(Account)).scalar_one()
    assert (account.cnpj, account.mrr_cents, account.segment, account.csm_id) == (
        cnpj, 200_000, "enterprise", cs_team["caio"].id)
    dup = client.post("/sucesso/contas/nova", data={"name": "Outra", "cnpj": cnpj})
    assert dup.status_code == 422 and "Já existe uma conta com este CNPJ" in dup.get_data(as_text=True)


def test_csm_logs_touchpoint_from_the_work_list_with_htmx(client, login_as, cs_team):
    with time_machine.travel(at("2026-03-01 10:00"), tick=False):
        account = make_account(cs_team["caio"], name="Laticínios Serra Azul")
    with time_machine.travel(at("2026-03-20 11:00"), tick=False):
        login_as(cs_team["caio"])
        page = client.get("/sucesso/pendencias").get_data(as_text=True)
        assert "Laticínios Serra Azul" in page and "atrasado há 4 dias" in page
        empty = client.post(f"/sucesso/pendencias/{account.id}/contato", data={"kind": "call", "summary": ""},
                            headers=HX)
        assert empty.status_code == 422 and "Conte em poucas palavras" in empty.get_data(as_text=True)
        done = client.post(f"/sucesso/pendencias/{account.id}/contato",
                           data={"kind": "call", "summary": "Ligação de acompanhamento"}, headers=HX)
        assert done.status_code == 200
        assert "Próximo follow-up" in done.get_data(as_text=True) and "04/04/2026" in done.get_data(as_text=True)
        plain = client.post(f"/sucesso/pendencias/{account.id}/contato", data={"kind": "email", "summary": "E-mail"})
        assert plain.status_code == 302
    assert db.session.scalar(select(func.count(Touchpoint.id))) == 2


def test_board_move_answers_the_board_and_plain_post_redirects(client, login_as, cs_team):
    account = make_account(cs_team["caio"], name="Rede Farma Bem Estar")
    login_as(cs_team["caio"])
    board = client.post(f"/sucesso/contas/{account.id}/fase", data={"phase": "adoption"}, headers=HX)
    assert board.status_code == 200
    html = board.get_data(as_text=True)
    adoption = html.split('data-phase="adoption"')[1].split("</section>")[0]
    assert "Rede Farma Bem Estar" in adoption and "movida para Adoção" in html
    same = client.post(f"/sucesso/contas/{account.id}/fase", data={"phase": "adoption"}, headers=HX)
    assert same.status_code == 409 and "já está em Adoção" in same.get_data(as_text=True)
    plain = client.post(f"/sucesso/contas/{account.id}/fase", data={"phase": "ongoing"})
    assert plain.status_code == 302 and db.session.get(Account, account.id).phase == "ongoing"


def test_account_page_actions(client, login_as, cs_team):
    account = make_account(cs_team["caio"], name="Agência Rota Sul")
    login_as(cs_team["caio"])
    r = client.post(f"/sucesso/contas/{account.id}/contatos", data={"name": "Marina Prado", "email": "MARINA@rota.com.br",
                                                                    "role": "decision"})
    assert r.status_code == 302
    contact = db.session.execute(select(Contact)).scalar_one()
    assert (contact.email, contact.decision_maker) == ("marina@rota.com.br", True)
    bad = client.post(f"/sucesso/contas/{account.id}/contatos", data={"name": "X", "email": "marina@rota.com.br"})
    assert bad.status_code == 422 and "já tem um contato com este e-mail" in bad.get_data(as_text=True)
    r = client.post(f"/sucesso/contas/{account.id}/pontos-de-contato",
                    data={"kind": "meeting", "summary": "Kickoff", "contact_id": str(contact.id)})
    assert r.status_code == 302
    assert db.session.get(Account, account.id).sponsor_met_at is not None  # the decision maker was there
    step = client.post(f"/sucesso/contas/{account.id}/onboarding/kickoff", data={"done": "1"}, headers=HX)
    assert step.status_code == 200 and "1 de 6 etapas" in step.get_data(as_text=True)
    refused = client.post(f"/sucesso/contas/{account.id}/risco", data={"flag": "1", "reason": ""})
    assert refused.status_code == 422 and "por que a conta está em risco" in refused.get_data(as_text=True)
    flagged = client.post(f"/sucesso/contas/{account.id}/risco", data={"flag": "1", "reason": "Cortes de custo"})
    assert flagged.status_code == 302
    page = client.get(f"/sucesso/contas/{account.id}").get_data(as_text=True)
    assert "Risco sinalizado" in page and "a nota seria" in page and "Kickoff" in page


def test_segmentation_preview_then_apply(client, login_as, cs_team):
    account = make_account(cs_team["caio"], name="Cento e Cinquenta", employees=150)
    login_as(cs_team["leader"])
    form = {"mode": "any", "employees_enabled": "y", "employees_op": "gt", "employees_value": "200",
            "mrr_cents_enabled": "y", "mrr_cents_op": "gt", "mrr_cents_value": "2.000,00",
            "products_count_enabled": "y", "products_count_op": "gt", "products_count_value": "2",
            "from_competitor_enabled": "y", "contact_points_enabled": "y", "contact_points_op": "gt",
            "contact_points_value": "4"}
    preview = client.post("/sucesso/configuracoes/segmentacao", data={**form, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "1 de 1 conta mudaria de segmento" in html and "Cento e Cinquenta" in html
    assert db.session.get(Account, account.id).segment == "enterprise"
    bad = client.post("/sucesso/configuracoes/segmentacao", data={**form, "employees_value": "x", "action": "apply"})
    assert bad.status_code == 422
    applied = client.post("/sucesso/configuracoes/segmentacao", data={**form, "action": "apply"})
    assert applied.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).segment == "smb"


def test_health_and_journey_settings_validate(client, login_as, cs_team):
    login_as(cs_team["leader"])
    weights = {f"weight-{k}": "10" for k in ("usage", "engagement", "support", "nps", "finance", "relationship")}
    limits = {"green_at": "40", "yellow_at": "70", "flag_cap": "39", "sponsor_days": "180", "on_demand_days": "90"}
    bad = client.post("/sucesso/configuracoes/saude", data={**weights, **limits})
    assert bad.status_code == 422 and "O amarelo precisa começar abaixo do verde." in bad.get_data(as_text=True)
    ok = client.post("/sucesso/configuracoes/saude", data={**weights, **limits, "green_at": "75", "yellow_at": "45"})
    assert ok.status_code == 302 and get_settings().health["green_at"] == 75
    journey = client.get("/sucesso/configuracoes/jornada").get_data(as_text=True)
    fields = dict(re.findall(r'name="((?:duration|cadence)-[^"]+)" id="[^"]+" value="([^"]*)"', journey))
    assert fields["cadence-enterprise-ongoing"] == "45" and fields["cadence-smb-ongoing"] == ""
    fields["cadence-enterprise-ongoing"] = "30"
    assert client.post("/sucesso/configuracoes/jornada", data=fields).status_code == 302
    assert get_settings().follow_up_days("enterprise", "ongoing") == 30
    fields["duration-adoption-smb"] = "zero"
    assert client.post("/sucesso/configuracoes/jornada", data=fields).status_code == 422


def test_products_and_at_most_five_key_features(client, login_as, cs_team):
    login_as(cs_team["leader"])
    assert client.post("/sucesso/configuracoes/produtos", data={"name": "Despesas"}).status_code == 302
    product_id = get_products_id()
    for i in range(5):
        r = client.post(f"/sucesso/configuracoes/produtos/{product_id}/funcionalidades",
                        data={"name": f"Funcionalidade {i}", "code": f"func_{i}"})
        assert r.status_code == 302
    sixth = client.post(f"/sucesso/configuracoes/produtos/{product_id}/funcionalidades",
                        data={"name": "Sexta", "code": "func_6"})
    assert sixth.status_code == 422 and "no máximo 5" in sixth.get_data(as_text=True)


def get_products_id():
    from portal.cs.models import Product
    return db.session.execute(select(Product.id)).scalar_one()


def test_alert_tuning_page(client, login_as, cs_team):
    login_as(cs_team["leader"])
    page = client.get("/sucesso/configuracoes/alertas").get_data(as_text=True)
    assert "Uso caiu semana a semana" in page and "Risco de churn" in page
    bad = client.post("/sucesso/configuracoes/alertas/usage_down", data={"active": "y", "threshold": "500"})
    assert bad.status_code == 422 and "entre 1 e 100" in bad.get_data(as_text=True)
    ok = client.post("/sucesso/configuracoes/alertas/usage_down", data={"active": "y", "email": "y", "threshold": "40"})
    assert ok.status_code == 302


def test_accounts_and_contacts_csv_import(client, login_as, cs_team):
    login_as(cs_team["leader"])
    cnpj = new_cnpj()
    accounts_csv = ("nome;cnpj;colaboradores;mrr;produtos;veio_concorrente;csm\n"
                    f"Hotel Serra Azul;{cnpj};250;3.500,00;Despesas, Viagens;não;{cs_team['caio'].email}\n").encode()
    preview = client.post("/sucesso/importar/contas", data={"file": (io.BytesIO(accounts_csv), "contas.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and db.session.scalar(select(func.count(Account.id))) == 0
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    assert client.post("/sucesso/importar/contas/confirmar", data={"token": token}).status_code == 302
    account = db.session.execute(select(Account)).scalar_one()
    assert (account.mrr_cents, account.segment, [p.name for p in account.products], account.csm_id) == (
        350_000, "enterprise", ["Despesas", "Viagens"], cs_team["caio"].id)
    contacts_csv = (f"cnpj;nome;email;papel;decisor\n{cnpj};Marina Prado;marina@serra.com.br;Decisor;sim\n"
                    f"00.000.000/0000-00;Ninguém;x@y.com;;\n").encode()
    refused = client.post("/sucesso/importar/contatos", data={"file": (io.BytesIO(contacts_csv), "c.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "CNPJ inválido" in refused.get_data(as_text=True)
    good = contacts_csv.decode().splitlines()[:2]
    preview = client.post("/sucesso/importar/contatos",
                          data={"file": (io.BytesIO("\n".join(good).encode()), "c.csv")},
                          content_type="multipart/form-data")
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    assert client.post("/sucesso/importar/contatos/confirmar", data={"token": token}).status_code == 302
    contact = db.session.execute(select(Contact)).scalar_one()
    assert (contact.name, contact.role, contact.decision_maker) == ("Marina Prado", "decision", True)
