"""Intake, duplicate blocking and distribution through the service functions."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, LeadContactKey, LossReason, Narrative, Offer, PresalesSettings, QueueMember
from portal.presales.services import distribution
from portal.presales.services.intake import handover, intake
from portal.presales.services.leads import mark_lost, move_to_stage, qualification_score
from tests.factories import make_development, make_user


def entry(**over):
    return {"name": "Fernanda Rocha", "email": "Fernanda@Exemplo.com.br", "phone": "+55 (11) 98765-4321",
            "development": "jardim-europa", "channel": "site", "media": "google", "message": "Quero visitar", **over}


def lead_count():
    return db.session.scalar(select(func.count(Lead.id)))


def test_new_lead_gets_a_number_normalized_contact_and_an_owner(sales):
    result = intake(entry())
    db.session.commit()
    lead = result.lead
    assert result.created and lead.number == "L-000001"
    assert (lead.email, lead.phone) == ("fernanda@exemplo.com.br", "+5511987654321")
    assert lead.owner_id == sales["south_broker"].id and lead.stage.name == "Atendimento"
    assert lead.first_response_due is not None  # the stage has a 60-minute SLA
    kinds = [n.kind for n in lead.narratives]
    assert "system" in kinds and "assignment" in kinds


def test_same_phone_in_another_format_is_a_reentry_on_the_open_lead(sales):
    first = intake(entry()).lead
    db.session.commit()
    again = intake(entry(name="Fernanda R.", email="", phone="11987654321", channel="whatsapp", media="instagram"))
    db.session.commit()
    assert again.status == "duplicate" and again.lead.id == first.id and lead_count() == 1
    reentry = db.session.execute(select(Narrative).where(Narrative.kind == "reentry")).scalar_one()
    assert reentry.channel.slug == "whatsapp" and reentry.media.slug == "instagram"
    assert first.owner_id == sales["south_broker"].id  # the owner keeps the lead


def test_lost_lead_blocks_for_n_days_then_releases(sales):
    lead = intake(entry()).lead
    mark_lost(lead, sales["admin"], db.session.execute(select(LossReason.id)).scalars().first())
    db.session.commit()
    assert intake(entry()).status == "duplicate"
    with time_machine.travel(utcnow() + timedelta(days=31)):
        result = intake(entry())
        db.session.commit()
    assert result.created and lead_count() == 2
    assert db.session.scalar(select(func.count(LeadContactKey.id)).where(LeadContactKey.lead_id == lead.id)) == 0


def test_per_development_blocking_lets_the_same_contact_into_another_development(sales):
    settings = db.session.execute(select(PresalesSettings)).scalar() or PresalesSettings()
    settings.dedup_same_development_only = True
    db.session.add(settings)
    other = make_development("Edifício Aurora", slug="aurora")
    intake(entry())
    assert intake(entry(development=other.slug)).created
    assert intake(entry(development=other.slug)).status == "duplicate"


def test_admin_may_force_a_new_lead_with_a_reason(sales):
    intake(entry())
    with pytest.raises(ServiceError) as err:
        intake(entry(), actor=sales["south_broker"], force_reason="cliente diferente")
    assert "administradores" in err.value.errors["force"]
    with pytest.raises(ServiceError):
        intake(entry(), actor=sales["admin"], force_reason=" ")
    forced = intake(entry(), actor=sales["admin"], force_reason="Homônimo: outra pessoa")
    db.session.commit()
    assert forced.created and lead_count() == 2
    assert "Homônimo" in forced.lead.narratives[-1].body or any("Homônimo" in n.body for n in forced.lead.narratives)
    assert intake(entry()).lead.id == forced.lead.id  # the newest lead now holds the contact


@pytest.mark.parametrize("data,field", [
    ({"email": "", "phone": ""}, "contact"), ({"email": "nao-e-email"}, "email"), ({"phone": "123"}, "phone"),
    ({"development": "nao-existe"}, "development"), ({"channel": "pombo-correio"}, "channel"),
    ({"media": "tv-a-cabo"}, "media"), ({"name": "  "}, "name"), ({"message": "x" * 5001}, "message"),
    ({"extra": [1, 2]}, "extra"),
])
def test_bad_entries_are_refused_with_the_field_and_nothing_is_written(sales, data, field):
    with pytest.raises(ServiceError) as err:
        intake(entry(**data))
    assert field in err.value.errors
    db.session.rollback()
    assert lead_count() == 0


def test_offline_rotation_is_fair_and_respects_weights_and_pauses(sales):
    south, north = sales["brokers"]
    owners = [intake(entry(email=f"p{i}@exemplo.com.br", phone=f"+55119876500{i:02d}")).lead.owner_id
              for i in range(6)]
    assert owners == [south.id, north.id] * 3
    members = {m.user_id: m for m in db.session.execute(select(QueueMember).where(
        QueueMember.queue_id == sales["queue"].id)).scalars()}
    members[north.id].weight = 2
    members[south.id].assigned_count = members[north.id].assigned_count = 0
    owners = [intake(entry(email=f"w{i}@exemplo.com.br", phone=f"+55119876510{i:02d}")).lead.owner_id
              for i in range(9)]
    assert owners.count(north.id) == 6 and owners.count(south.id) == 3
    members[north.id].paused = True
    assert intake(entry(email="z@exemplo.com.br", phone="+5511987652222")).lead.owner_id == south.id


def test_rotation_pick_stays_within_one_of_the_weighted_share():
    class M:
        def __init__(self, i, w):
            self.id = self.position = i
            self.weight, self.assigned_count = w, 0
    members = [M(1, 1), M(2, 2), M(3, 3)]
    for n in range(1, 121):
        distribution.pick(members).assigned_count += 1
        total_weight = sum(m.weight for m in members)
        for m in members:
            assert abs(m.assigned_count - n * m.weight / total_weight) <= 1


def test_sdr_channel_goes_to_sdr_then_handover_to_broker_queue(sales):
    lead = intake(entry(channel="rdstation")).lead
    db.session.commit()
    assert lead.stage.is_sdr and lead.owner_id == lead.sdr_id == sales["sdr"].id
    lead.interest_level, lead.fit = "high", "yes"
    lead.qualification_score = qualification_score(lead)
    handover(lead, sales["sdr"])
    db.session.commit()
    assert not lead.stage.is_sdr and lead.owner_id in {b.id for b in sales["brokers"]}
    assert lead.sdr_id == sales["sdr"].id and lead.qualification_score == 55


def test_required_fields_block_entering_a_stage_until_filled(sales):
    lead = intake(entry(phone="")).lead
    visit = next(s for s in lead.pipeline.stages if s.name == "Visita agendada")
    with pytest.raises(ServiceError) as err:
        move_to_stage(lead, visit, sales["south_broker"])
    assert set(err.value.errors) == {"phone", "interest_level"}
    assert lead.stage.name == "Atendimento"
    with pytest.raises(ServiceError):
        move_to_stage(lead, visit, sales["south_broker"], values={"interest_level": "high"})
    lead.phone = "+5511987654321"
    move_to_stage(lead, visit, sales["south_broker"], values={"interest_level": "high"})
    assert lead.stage.name == "Visita agendada" and lead.narratives[0].kind == "stage"


def online_queue(sales, minutes=5, fallback=None):
    q = sales["queue"]
    q.mode, q.offer_minutes, q.fallback_minutes = "online", minutes, fallback
    db.session.commit()
    return q


def test_online_offer_accept_decline_and_timeout(sales, run_jobs):
    online_queue(sales)
    south, north = sales["brokers"]
    lead = intake(entry()).lead
    db.session.commit()
    assert lead.owner_id is None and lead.queue_id == sales["queue"].id  # nobody online: waits
    distribution.set_presence(south, True)
    db.session.commit()
    offer = db.session.execute(select(Offer)).scalar_one()
    assert offer.user_id == south.id and offer.status == "pending"
    distribution.set_presence(north, True)
    distribution.decline_offer(offer.id, south)
    db.session.commit()
    second = db.session.execute(select(Offer).where(Offer.status == "pending")).scalar_one()
    assert second.user_id == north.id
    with time_machine.travel(second.expires_at + timedelta(seconds=1)):
        assert distribution.expire_offer(second.id) == "expired"
    assert db.session.execute(select(Offer).where(Offer.status == "pending")).scalar_one_or_none() is None
    assert lead.owner_id is None  # both tried: waits for the fallback or a new check-in


def test_accepting_assigns_and_a_stale_offer_is_refused(sales):
    online_queue(sales)
    south = sales["brokers"][0]
    distribution.set_presence(south, True)
    lead = intake(entry()).lead
    offer = db.session.execute(select(Offer)).scalar_one()
    with time_machine.travel(offer.expires_at + timedelta(seconds=1)):
        with pytest.raises(ServiceError):
            distribution.accept_offer(offer.id, south)
    offer.expires_at = utcnow() + timedelta(minutes=5)
    with pytest.raises(LookupError):
        distribution.accept_offer(offer.id, sales["brokers"][1])
    distribution.accept_offer(offer.id, south)
    assert lead.owner_id == south.id and offer.status == "accepted"


def test_waiting_lead_falls_back_to_offline_rotation(sales):
    online_queue(sales, fallback=10)
    lead = intake(entry()).lead
    db.session.commit()
    assert lead.owner_id is None
    result = distribution.sweep_offers(utcnow() + timedelta(minutes=11))
    db.session.expire_all()
    assert result["fallback"] == 1 and db.session.get(Lead, lead.id).owner_id is not None


def test_presence_expires_without_heartbeat(sales):
    online_queue(sales)
    south = sales["brokers"][0]
    distribution.set_presence(south, True)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        lead = intake(entry()).lead
    assert lead.owner_id is None and not db.session.execute(select(Offer)).first()
    assert make_user  # factories imported for other tests


def test_waiting_lead_is_visible_to_managers_not_to_brokers(sales):
    from portal.accounts.scope import scoped
    online_queue(sales)
    lead = intake(entry()).lead
    db.session.commit()
    assert lead.owner_id is None
    ids = lambda user: set(db.session.execute(scoped(user, Lead).with_only_columns(Lead.id)).scalars())  # noqa: E731
    assert lead.id in ids(sales["south_mgr"]) and lead.id in ids(sales["head"])
    assert lead.id not in ids(sales["south_broker"])
