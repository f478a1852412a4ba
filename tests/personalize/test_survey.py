"""Satisfaction survey after signature: the seeded rule on "contract.signed" sends one signed link by e-mail
and SMS; the link answers once, without login, with a score from 1 to 5; the summary stays in scope."""
import re

import pytest
from sqlalchemy import select

from portal.automation.events import publish
from portal.automation.models import Delivery
from portal.extensions import db
from portal.personalize.contracts import Contract
from portal.personalize.esign.models import Envelope, Signer
from portal.personalize.services import questions, selections, surveys
from portal.personalize.surveys import SatisfactionSurvey
from tests.factories import make_development, make_user


def signed_envelope(unit, buyer, staff, status="signed"):
    """The e-signature send flow is not needed here: a signed envelope row is enough."""
    selection = selections.ensure_selection(unit)
    contract = Contract(selection_id=selection.id, development_id=unit.development_id, status="rendered")
    db.session.add(contract)
    db.session.flush()
    envelope = Envelope(contract_id=contract.id, selection_id=selection.id, development_id=unit.development_id,
                        provider="builtin", status=status)
    envelope.signers = [Signer(position=0, role="buyer", user_id=buyer.id, name=buyer.name, email=buyer.email,
                               phone=buyer.phone, status="signed" if status == "signed" else "pending"),
                        Signer(position=1, role="staff", user_id=staff.id, name=staff.name, email=staff.email,
                               status="signed" if status == "signed" else "pending")]
    db.session.add(envelope)
    db.session.flush()
    return envelope


def link_in(text):
    return re.search(r"http://localhost(/personalizacao/pesquisa/[A-Za-z0-9_.\-]+)", text).group(1)


def test_signed_contract_sends_one_link_that_answers_once(world, client, smtp_server, run_jobs):
    assert "contract.signed.survey" in questions.ensure_default_rules()
    ana = world["a"]
    envelope = signed_envelope(world["units"][0], ana, world["staff"])
    publish("contract.signed", envelope)
    run_jobs()

    mails = [m for m in smtp_server.messages if ana.email in m["to"]]
    assert len(mails) == 1
    assert mails[0]["message"]["subject"] == "Como foi a sua experiência na personalização?"
    path = link_in(mails[0]["message"].get_content())
    sms = db.session.execute(select(Delivery).where(Delivery.channel == "sms")).scalar_one()
    assert sms.recipient == ana.phone and path in sms.body  # the same link: answering one closes both
    survey = db.session.execute(select(SatisfactionSurvey)).scalar_one()
    assert survey.user_id == ana.id and survey.envelope_id == envelope.id and survey.answered_at is None

    page = client.get(path)  # no login
    assert page.status_code == 200 and "Como foi a sua experiência?" in page.get_data(as_text=True)
    assert client.post(path, data={"score": "6"}).status_code == 422
    assert client.post(path, data={"score": "0"}).status_code == 422
    refused = client.post(path, data={"score": "abc", "comment": "Ótimo"})
    assert refused.status_code == 422 and "Escolha uma nota de 1 a 5." in refused.get_data(as_text=True)
    assert "Ótimo" in refused.get_data(as_text=True)  # the comment is kept
    db.session.refresh(survey)
    assert survey.answered_at is None

    done = client.post(path, data={"score": "4", "comment": "Equipe atenciosa, mas o prazo foi curto."})
    assert done.status_code == 200 and "Obrigado!" in done.get_data(as_text=True)
    db.session.refresh(survey)
    assert (survey.score, survey.comment) == (4, "Equipe atenciosa, mas o prazo foi curto.")
    first_answer = survey.answered_at

    again = client.post(path, data={"score": "1", "comment": "mudei de ideia"})
    assert again.status_code == 200 and "Obrigado!" in again.get_data(as_text=True)
    with pytest.raises(Exception, match="já foi respondida"):
        surveys.answer(path.rsplit("/", 1)[1], 2)
    db.session.rollback()
    db.session.refresh(survey)
    assert (survey.score, survey.answered_at) == (4, first_answer)

    # signed published again: still one survey per envelope and buyer, the message carries the same link
    publish("contract.signed", envelope)
    run_jobs()
    assert db.session.query(SatisfactionSurvey).count() == 1
    assert len([m for m in smtp_server.messages if ana.email in m["to"]]) == 2  # new event, same link
    assert link_in(smtp_server.messages[-1]["message"].get_content()) == path


def test_a_tampered_or_foreign_link_is_refused(world, client):
    ana = world["a"]
    envelope = signed_envelope(world["units"][0], ana, world["staff"])
    url = surveys.link_for_envelope(envelope)
    db.session.commit()
    token = url.rsplit("/", 1)[1]
    assert client.get(f"/personalizacao/pesquisa/{token[:-2]}xx").status_code == 404
    assert client.post(f"/personalizacao/pesquisa/{token}x", data={"score": "5"}).status_code == 404
    from itsdangerous import URLSafeSerializer
    forged = URLSafeSerializer("another-secret", salt=surveys.SALT).dumps([1, "nonce"])
    assert client.get(f"/personalizacao/pesquisa/{forged}").status_code == 404
    assert db.session.execute(select(SatisfactionSurvey.answered_at)).scalar_one() is None


def test_no_survey_before_the_contract_is_signed(world):
    envelope = signed_envelope(world["units"][0], world["a"], world["staff"], status="sent")
    assert surveys.link_for_envelope(envelope) == ""
    assert db.session.query(SatisfactionSurvey).count() == 0


def answer_for(envelope, score, comment=""):
    token = surveys.link_for_envelope(envelope).rsplit("/", 1)[1]
    surveys.answer(token, score, comment)


def test_summary_counts_within_the_users_developments(world):
    ana, bruno, staff = world["a"], world["b"], world["staff"]
    e1 = signed_envelope(world["units"][0], ana, staff)
    e2 = signed_envelope(world["units"][1], bruno, staff)
    e3 = signed_envelope(world["units"][2], make_user("customer", name="Carla Compradora"), staff)
    answer_for(e1, 5, "Adorei o portal.")
    answer_for(e2, 3)
    surveys.link_for_envelope(e3)  # sent, not answered
    outsider = make_user("personalization", name="Olga Outra Obra")
    other = make_development("Edifício Horizonte", staff=[outsider])
    buyer = make_user("customer", name="Davi Horizonte")
    answer_for(signed_envelope(other.towers[0].units[0], buyer, outsider), 1, "Demorou demais.")
    db.session.commit()

    mine = surveys.survey_summary(staff)
    assert (mine["sent"], mine["answered"], mine["average"], mine["response_rate"]) == (3, 2, 4.0, 67)
    assert mine["distribution"] == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert [c["comment"] for c in mine["latest_comments"]] == ["Adorei o portal."]
    assert mine["latest_comments"][0]["unit"] == f"Torre A · {world['units'][0].number}"
    theirs = surveys.survey_summary(outsider)
    assert (theirs["sent"], theirs["answered"], theirs["distribution"][1]) == (1, 1, 1)
    assert "Adorei o portal." not in str(theirs)
    assert surveys.survey_summary(staff, development_id=other.id)["sent"] == 0
    admin = make_user("admin", name="Ada Admin")
    assert surveys.survey_summary(admin)["sent"] == 4
    empty = surveys.survey_summary(outsider, development_id=world["dev"].id)
    assert empty["average"] is None and empty["response_rate"] is None
