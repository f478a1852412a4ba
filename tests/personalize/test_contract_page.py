"""The unit's contract page: what staff may do while the contract is out for signature, the signing history,
and the buyer's payment choice (installments valid per method, the input kept on a refused choice)."""
import re

import pytest

from portal.extensions import db
from portal.personalize.contracts import Contract, PaymentChoice
from portal.personalize.esign import services as esign
from portal.personalize.services import contracts
from tests.personalize.test_contracts import _submitted
from tests.personalize.test_esign_core import contract  # noqa: F401 - a rendered contract paid by PIX


def _signed(world, contract):
    """Sent, signed by every buyer and then the company, sealed."""
    envelope = esign.send_contract(contract, world["staff"])
    for signer in envelope.signers:
        esign.record_signature(signer)
    esign.finish(envelope, b"%PDF-signed")
    db.session.commit()
    return envelope


def _page(client, world) -> str:
    return client.get(f"/personalizacao/unidades/{world['units'][0].id}/contrato").get_data(as_text=True)


def test_generate_again_is_hidden_and_refused_while_the_contract_is_out_for_signature(world, contract, client,
                                                                                         login_as):
    envelope = esign.send_contract(contract, world["staff"])
    db.session.commit()
    login_as(world["staff"])
    page = _page(client, world)
    assert "Gerar de novo" not in page and "cancele a assinatura antes" in page
    r = client.post(f"/personalizacao/unidades/{world['units'][0].id}/contrato/gerar")
    assert r.status_code == 409 and "cancele a assinatura antes" in r.get_data(as_text=True)
    db.session.expire_all()
    assert envelope.status == "sent"  # the signature goes on, on the same contract
    assert contracts.current_contract(contract.selection_id).id == contract.id
    esign.cancel(envelope, "Troca de forma de pagamento", world["staff"])
    db.session.commit()
    assert "Gerar de novo" in _page(client, world)
    assert client.post(f"/personalizacao/unidades/{world['units'][0].id}/contrato/gerar").status_code == 302


def test_a_signed_contract_cannot_be_generated_again(world, contract, client, login_as):
    envelope = _signed(world, contract)
    login_as(world["staff"])
    assert "Gerar de novo" not in _page(client, world)
    r = client.post(f"/personalizacao/unidades/{world['units'][0].id}/contrato/gerar")
    assert r.status_code == 409 and "já foi assinado" in r.get_data(as_text=True)
    assert db.session.get(Contract, contract.id).status == "rendered"


def test_signing_history_shows_every_signature_including_the_company(world, contract, client, login_as):
    envelope = _signed(world, contract)
    login_as(world["staff"])
    page = _page(client, world)
    history = page[page.index("Histórico da assinatura"):]
    for signer in envelope.signers:
        assert f"Assinado por {signer.name}" in history
    company = envelope.signers[-1]
    assert company.role == "staff" and f"Assinado por {company.name}</strong>" in history
    assert "Empresa" in history[history.index(f"Assinado por {company.name}"):]
    assert "Contrato assinado" in history


def _installments_offered(page: str) -> list[str]:
    """The values of the visible installments select (the per-method <template>s are not part of it)."""
    select = page[page.index('<select id="installments"'):]
    return re.findall(r'<option value="(\d*)"', select[:select.index("</select>")])


@pytest.fixture
def accepted(world, login_as, client):
    login_as(world["staff"])
    r = client.post(f"/personalizacao/empreendimentos/{world['dev'].id}/pagamento",
                    data={"accept-pix": "1", "installments-pix": "1", "accept-boleto": "1", "installments-boleto": "6",
                          "accept-financiado": "1", "installments-financiado": "60"})
    assert r.status_code == 302
    client.post("/logout")
    sel = _submitted(world)
    login_as(world["a"])
    return sel


def test_the_form_offers_only_the_chosen_methods_installments(world, accepted, client):
    assert _installments_offered(_page(client, world)) == [""]  # no method yet: "Escolha a forma primeiro"
    contracts.choose_payment(accepted, "pix", 1, world["a"])
    db.session.commit()
    assert _installments_offered(_page(client, world)) == ["1"]  # not 1 to 60 whatever the method
    contracts.choose_payment(accepted, "boleto", 4, world["a"])
    db.session.commit()
    page = _page(client, world)
    assert _installments_offered(page) == [str(n) for n in range(1, 7)]
    assert '<option value="4" selected>4x de' in page
    for method, most in (("pix", 1), ("boleto", 6), ("financiado", 60)):  # what the script swaps in
        template = page[page.index(f'<template data-pay-method="{method}">'):]
        assert len(re.findall("<option ", template[:template.index("</template>")])) == most


def test_a_refused_pair_keeps_the_buyers_input_and_the_saved_choice(world, accepted, client):
    contracts.choose_payment(accepted, "boleto", 6, world["a"])
    db.session.commit()
    unit = world["units"][0]
    r = client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "financiado", "installments": "61"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "de 1 a 60 parcelas" in page
    assert re.search(r'value="financiado" checked', page) and not re.search(r'value="boleto" checked', page)
    assert len(_installments_offered(page)) == 60
    choice = db.session.get(PaymentChoice, accepted.id)
    assert (choice.method, choice.installments) == ("boleto", 6)  # nothing written half-way


def test_installments_are_asked_for_not_assumed(world, accepted, client):
    unit = world["units"][0]
    r = client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "boleto"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Escolha em quantas parcelas (de 1 a 6)" in page
    assert 'value="boleto" checked' in page and db.session.get(PaymentChoice, accepted.id) is None
    for odd in ("²", "١", "3.0", "-1"):
        assert client.post(f"/personalizacao/unidades/{unit.id}/pagamento",
                           data={"method": "boleto", "installments": odd}).status_code == 422
    assert client.post(f"/personalizacao/unidades/{unit.id}/pagamento", data={"method": "pix"}).status_code == 302
    assert db.session.get(PaymentChoice, accepted.id).installments == 1  # one payment: nothing to ask


def test_staff_payment_options_refuse_odd_digits(world, client, login_as):
    login_as(world["staff"])
    r = client.post(f"/personalizacao/empreendimentos/{world['dev'].id}/pagamento",
                    data={"accept-boleto": "1", "installments-boleto": "²"})
    assert r.status_code == 422 and "de 1 a 120" in r.get_data(as_text=True)
