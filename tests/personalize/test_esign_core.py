"""The envelope state machine every signature provider drives (with a recording test provider)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.errors import ServiceError
from portal.automation.models import Event
from portal.extensions import db
from portal.personalize.contracts import PaymentChoice
from portal.personalize.esign import base, services as esign
from portal.personalize.esign.models import Envelope
from portal.personalize.services import contracts, selections
from tests.personalize.test_contracts import _submitted


class Recorder(base.SignatureProvider):
    name, label = "recorder", "Provedor de teste"

    def __init__(self):
        self.created, self.cancelled = [], []

    def create_envelope(self, envelope, pdf):
        assert pdf.startswith(b"%PDF")
        envelope.external_id = f"ext-{len(self.created) + 1}"
        self.created.append(envelope)

    def cancel(self, envelope, reason):
        self.cancelled.append((envelope.external_id, reason))


@pytest.fixture
def recorder(app):
    provider = base.register_provider(Recorder())
    yield provider
    base.PROVIDERS.pop("recorder")


@pytest.fixture
def contract(world, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    contracts.choose_payment(sel, "pix", 1, world["a"])
    db.session.commit()
    run_jobs()
    return contracts.current_contract(sel.id)


def _events(envelope):
    return [e.type for e in db.session.execute(select(Event).where(Event.subject_type == "envelope",
                                                                   Event.subject_id == envelope.id)
                                               .order_by(Event.id)).scalars()]


def test_buyers_then_staff_sign_and_the_final_file_is_stored_once(world, contract, recorder):
    envelope = esign.send_contract(contract, world["staff"], provider="recorder")
    db.session.commit()
    assert envelope.status == "sent" and envelope.external_id == "ext-1"
    assert [s.role for s in envelope.signers][-1] == "staff"
    assert envelope.signers[-1].user_id == world["staff"].id
    buyers = [s for s in envelope.signers if s.role == "buyer"]
    with pytest.raises(ServiceError):  # staff sign last
        esign.record_signature(envelope.signers[-1])
    for signer in buyers:
        esign.record_signature(signer, ip="203.0.113.9", user_agent="UA", channel="email")
    assert envelope.status == "partial" and not esign.all_signed(envelope)
    esign.record_signature(envelope.signers[-1])
    assert esign.all_signed(envelope)
    assert esign.finish(envelope, b"%PDF-signed") is True
    assert esign.finish(envelope, b"%PDF-other") is False  # a repeated callback changes nothing
    db.session.commit()
    assert envelope.status == "signed" and open(esign.signed_file(envelope), "rb").read() == b"%PDF-signed"
    assert _events(envelope) == ["contract.sent"] + ["contract.partially_signed"] * len(buyers) + ["contract.signed"]


def test_one_valid_envelope_per_selection(world, contract, recorder):
    esign.send_contract(contract, world["staff"], provider="recorder")
    db.session.commit()
    with pytest.raises(ServiceError):
        esign.send_contract(contract, world["staff"], provider="recorder")
    db.session.rollback()
    # the database refuses a second valid envelope even if the check above were bypassed
    first = db.session.execute(select(Envelope)).scalar_one()
    db.session.add(Envelope(contract_id=first.contract_id, selection_id=first.selection_id,
                            development_id=first.development_id, provider="recorder", status="sent"))
    with pytest.raises(Exception):
        db.session.flush()
    db.session.rollback()


def test_reopening_cancels_the_open_envelope_but_a_signed_contract_blocks_it(world, contract, recorder):
    envelope = esign.send_contract(contract, world["staff"], provider="recorder")
    db.session.commit()
    sel = contract.selection
    selections.reopen(sel, world["staff"], "Cliente pediu troca")
    db.session.commit()
    assert envelope.status == "cancelled" and recorder.cancelled == [("ext-1", envelope.status_reason)]
    assert _events(envelope)[-1] == "contract.cancelled"


def test_signed_contract_cannot_be_reopened(world, contract, recorder):
    envelope = esign.send_contract(contract, world["staff"], provider="recorder")
    for signer in envelope.signers:
        esign.record_signature(signer)
    esign.finish(envelope, b"%PDF-signed")
    db.session.commit()
    with pytest.raises(ServiceError):
        selections.reopen(contract.selection, world["staff"], "Mudança")
    db.session.rollback()
    assert db.session.get(Envelope, envelope.id).status == "signed"


def test_payment_is_required_and_envelopes_expire(world, contract, recorder, frozen):
    db.session.delete(db.session.get(PaymentChoice, contract.selection_id))
    contract.payment_method = None
    with pytest.raises(ServiceError) as err:
        esign.send_contract(contract, world["staff"], provider="recorder")
    assert "pagamento" in str(err.value.errors)
    contract.payment_method = "pix"
    envelope = esign.send_contract(contract, world["staff"], provider="recorder")
    db.session.commit()
    assert esign.expire_due() == 0
    frozen.shift(timedelta(days=31))
    assert esign.expire_due() == 1
    assert db.session.get(Envelope, envelope.id).status == "expired"
