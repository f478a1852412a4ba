"""Contracts: templates (syntax errors on save, preview with a real unit, versions), the PDF rendered by the
worker on submit (every line and the total, in figures and words, equal to the selection's), payment choice."""
import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.extensions import db
from portal.personalize.contracts import Contract, ContractTemplate, PaymentChoice
from portal.personalize.services import contracts, selections
from portal.web.filters import brl


@pytest.mark.parametrize("cents, words", [
    (1, "um centavo"),
    (100, "um real"),
    (100_000_000, "um milhão de reais"),
    (1_234_567, "doze mil, trezentos e quarenta e cinco reais e sessenta e sete centavos"),
    (101, "um real e um centavo"),
    (0, "zero reais"),
])
def test_money_in_words(cents, words):
    assert contracts.money_words(cents) == words


def test_money_full_reads_figures_then_words():
    assert contracts.money_full(1_234_567) == ("R$ 12.345,67 (doze mil, trezentos e quarenta e cinco reais e "
                                               "sessenta e sete centavos)")


def _submitted(world):
    unit, a, o, items = world["units"][0], world["a"], world["options"], world["items"]
    sel = selections.ensure_selection(unit)
    selections.choose(sel, items["sala"].id, o["vinilico"].id, a)
    selections.choose(sel, items["torneira"].id, o["gourmet"].id, a)
    db.session.commit()
    db.session.refresh(sel)
    selections.submit(sel, sel.revision, a)
    db.session.commit()
    return sel


def _pdf_text(contract) -> str:
    with open(contracts.contract_file(contract), "rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == contract.sha256
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_template_syntax_error_is_shown_on_save_and_nothing_is_stored(world, client, login_as):
    login_as(world["staff"])
    d = world["dev"]
    r = client.post(f"/personalizacao/empreendimentos/{d.id}/contrato",
                    data={"body": "<p>{{ unidade.numero }</p>{% for l in linhas %}", "action": "save"})
    assert r.status_code == 422
    assert "Erro de sintaxe na linha 1" in r.get_data(as_text=True)
    r = client.post(f"/personalizacao/empreendimentos/{d.id}/contrato",
                    data={"body": "<p>{{ unidade.andar }}</p>", "action": "save"})
    assert r.status_code == 422 and "O campo {{ unidade.andar }} não existe" in r.get_data(as_text=True)
    assert db.session.execute(select(ContractTemplate)).first() is None


def test_preview_uses_a_real_unit_and_saving_makes_versions(world, client, login_as, run_jobs):
    sel = _submitted(world)
    login_as(world["staff"])
    d = world["dev"]
    url = f"/personalizacao/empreendimentos/{d.id}/contrato"
    assert "Gerar" not in client.get(url).get_data(as_text=True)
    r = client.post(url, data={"body": contracts.DEFAULT_TEMPLATE, "action": "preview"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Vinílico amadeirado" in page and "Ana Compradora" in page
    assert contracts.money_words(sel.total_cents) in page
    assert db.session.execute(select(ContractTemplate)).first() is None  # a preview stores nothing
    assert client.post(url, data={"body": contracts.DEFAULT_TEMPLATE, "action": "save"}).status_code == 302
    assert client.post(url, data={"body": contracts.DEFAULT_TEMPLATE + "<p>Fim.</p>",
                                  "action": "save"}).status_code == 302
    assert [t.version for t in contracts.template_versions(d.id)] == [2, 1]


def test_submit_renders_the_contract_pdf_with_every_line_and_the_total(world, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    contract = contracts.current_contract(sel.id)
    assert contract.status == "queued"
    run_jobs()
    contract = db.session.get(Contract, contract.id)
    assert contract.status == "rendered" and len(contract.sha256) == 64
    text = _pdf_text(contract)
    flat = " ".join(text.split())
    assert len(sel.lines) == 3  # the two choices and the standard countertop
    for line in sel.lines:
        assert line.option.name in flat
        assert f"{brl(line.unit_price_cents)} {brl(line.total_cents)}" in text  # one row, money never wrapped
    assert sel.total_cents == sum(line.total_cents for line in sel.lines) == contract.total_cents
    assert sel.total_cents == 20 * 8000 + 68900
    assert contracts.money_full(sel.total_cents) in flat
    assert "529.982.247-25" in flat and "Ana Compradora" in flat


def test_payment_choice_goes_into_a_new_contract_and_old_ones_are_superseded(world, client, login_as, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    first = contracts.current_contract(sel.id)
    run_jobs()
    login_as(world["a"])
    unit = world["units"][0]
    page = client.get(f"/personalizacao/unidades/{unit.id}/contrato").get_data(as_text=True)
    assert "Forma de pagamento" in page and "Gerar contrato" not in page
    r = client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "dinheiro"})
    assert r.status_code == 422 and "Escolha uma forma de pagamento" in r.get_data(as_text=True)
    r = client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "cartao", "installments": "10"})
    assert r.status_code == 302
    choice = db.session.get(PaymentChoice, sel.id)
    assert (choice.method, choice.installments) == ("cartao", 10)
    run_jobs()
    assert db.session.get(Contract, first.id).status == "superseded"
    contract = contracts.current_contract(sel.id)
    assert contract.status == "rendered" and contract.payment_method == "cartao"
    assert "Cartão de crédito em 10x" in _pdf_text(contract)
    r = client.get(f"/personalizacao/unidades/{unit.id}/contrato/{contract.id}.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_other_buyer_cannot_open_the_contract(world, client, login_as, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    run_jobs()
    contract = contracts.current_contract(sel.id)
    login_as(world["b"])
    unit = world["units"][0]
    assert client.get(f"/personalizacao/unidades/{unit.id}/contrato").status_code == 404
    assert client.get(f"/personalizacao/unidades/{unit.id}/contrato/{contract.id}.pdf").status_code == 404
    own = world["units"][1]
    assert client.get(f"/personalizacao/unidades/{own.id}/contrato/{contract.id}.pdf").status_code == 404


def test_reopening_voids_the_contract_and_staff_can_generate_again(world, client, login_as, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    run_jobs()
    first = contracts.current_contract(sel.id)
    selections.reopen(sel, world["staff"], "Comprador pediu troca")
    db.session.commit()
    assert db.session.get(Contract, first.id).status == "superseded"
    assert contracts.current_contract(sel.id) is None
    login_as(world["staff"])
    unit = world["units"][0]
    r = client.post(f"/personalizacao/unidades/{unit.id}/contrato/gerar")
    assert r.status_code == 422 and "personalização enviada" in r.get_data(as_text=True)
    db.session.refresh(sel)
    selections.submit(sel, sel.revision, world["staff"])
    db.session.commit()
    run_jobs()
    assert client.post(f"/personalizacao/unidades/{unit.id}/contrato/gerar").status_code == 302
    run_jobs()
    valid = db.session.execute(select(Contract).where(Contract.selection_id == sel.id,
                                                      Contract.status != "superseded")).scalars().all()
    assert len(valid) == 1 and valid[0].status == "rendered"
    assert "Gerar de novo" in client.get(f"/personalizacao/unidades/{unit.id}/contrato").get_data(as_text=True)


def test_staff_configure_accepted_methods_and_the_buyer_only_sees_those(world, client, login_as):
    d = world["dev"]
    login_as(world["staff"])
    url = f"/personalizacao/empreendimentos/{d.id}/pagamento"
    r = client.post(url, data={})
    assert r.status_code == 422 and "pelo menos uma" in r.get_data(as_text=True)
    r = client.post(url, data={"accept-pix": "1", "installments-pix": "1", "instructions-pix": "Chave no contrato.",
                               "accept-boleto": "1", "installments-boleto": "0"})
    assert r.status_code == 422 and "de 1 a 120" in r.get_data(as_text=True)
    r = client.post(url, data={"accept-pix": "1", "installments-pix": "1", "instructions-pix": "Chave no contrato.",
                               "accept-boleto": "1", "installments-boleto": "6"})
    assert r.status_code == 302
    assert [(o.method, o.max_installments) for o in contracts.payment_options(d.id)] == [("boleto", 6), ("pix", 1)]
    sel = _submitted(world)
    client.post("/logout")
    login_as(world["a"])
    unit = world["units"][0]
    page = client.get(f"/personalizacao/unidades/{unit.id}/contrato").get_data(as_text=True)
    assert "Chave no contrato." in page and "Cartão de crédito" not in page
    assert client.post(f"/personalizacao/unidades/{unit.id}/pagamento",
                       data={"method": "cartao", "installments": "1"}).status_code == 422
    r = client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "boleto", "installments": "7"})
    assert r.status_code == 422 and "de 1 a 6 parcelas" in r.get_data(as_text=True)
    assert db.session.get(PaymentChoice, sel.id) is None
    assert client.post(f"/personalizacao/unidades/{unit.id}/pagamento",
                       data={"method": "boleto", "installments": "6"}).status_code == 302
    assert db.session.get(PaymentChoice, sel.id).installments == 6
