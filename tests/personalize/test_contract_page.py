"""The unit's contract page: what staff may do while the contract is out for signature, the signing history,
and the buyer's payment choice (installments valid per method, the input kept on a refused choice)."""
import pytest

from portal.extensions import db
from portal.personalize.contracts import Contract, PaymentChoice
from portal.personalize.esign import services as esign
from portal.personalize.services import contracts
from tests.personalize.test_contracts import _submitted


@pytest.fixture
def contract(world, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    contracts.choose_payment(sel, "pix", 1, world["a"])
    db.session.commit()
    run_jobs()
    return contracts.current_contract(sel.id)


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
    envelope = esign.send_contract(contract, world["staff"])
    for signer in envelope.signers:
        esign.record_signature(signer)
    esign.finish(envelope, b"%PDF-signed")
    db.session.commit()
    login_as(world["staff"])
    assert "Gerar de novo" not in _page(client, world)
    r = client.post(f"/personalizacao/unidades/{world['units'][0].id}/contrato/gerar")
    assert r.status_code == 409 and "já foi assinado" in r.get_data(as_text=True)
    assert db.session.get(Contract, contract.id).status == "rendered"


def test_signing_history_shows_every_signature_including_the_company(world, contract, client, login_as):
    envelope = esign.send_contract(contract, world["staff"])
    for signer in envelope.signers:
        esign.record_signature(signer)
    esign.finish(envelope, b"%PDF-signed")
    db.session.commit()
    login_as(world["staff"])
    page = _page(client, world)
    history = page[page.index("Histórico da assinatura"):]
    for signer in envelope.signers:
        assert f"Assinado por {signer.name}" in history
    company = envelope.signers[-1]
    assert company.role == "staff" and f"Assinado por {company.name}</strong>" in history
    assert "Empresa" in history[history.index(f"Assinado por {company.name}"):]
    assert "Contrato assinado" in history
