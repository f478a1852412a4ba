"""The journey: cadence dates per segment and phase (Enterprise every 45 days in ongoing plus a yearly
visit; ME/PME fortnightly in adoption, then on demand), phase history with time in each phase, the
onboarding checklist, and the CSM's work list of due and overdue follow-ups, scoped like everything else."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.cs import queries
from portal.cs.models import Account, OnboardingStep, PhaseChange
from portal.cs.services import journey
from portal.cs.services.accounts import update_account
from portal.extensions import db
from tests.cs.conftest import at, make_account


def test_cadence_follows_segment_and_phase(cs_team):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        small = make_account(cs_team["caio"], name="Clínica Sorriso Pleno")
        big = make_account(cs_team["caio"], name="Hospital Santa Clara", employees=1200,
                           contract_start="01/03/2026")
        assert small.segment == "smb" and big.segment == "enterprise"
        journey.change_phase(small, "adoption", cs_team["caio"])
        journey.change_phase(big, "ongoing", cs_team["caio"])
        db.session.commit()
        assert small.next_follow_up_at == at("2026-03-17 09:00")     # fortnightly in adoption
        assert big.next_follow_up_at == at("2026-04-16 09:00")       # every 45 days in ongoing
        assert big.next_visit_at == at("2027-03-01 09:00")           # a visit a year from the contract start
        assert big.next_rts_at == at("2026-05-31 09:00")             # results meeting every 90 days
        assert small.phase_due_at == at("2026-04-16 09:00")          # adoption: 45 days
    with time_machine.travel(at("2026-03-10 16:30"), tick=False):
        journey.log_touchpoint(big, {"kind": "visit", "summary": "Visita à diretoria", "decision_maker": "y"},
                               cs_team["caio"])
        journey.change_phase(small, "ongoing", cs_team["caio"])
        db.session.commit()
        assert big.next_follow_up_at == at("2026-04-24 09:00")
        assert big.next_visit_at == at("2027-03-10 09:00") and big.sponsor_met_at == at("2026-03-10 16:30")
        assert small.next_follow_up_at is None  # ME/PME ongoing: on demand


def test_touchpoints_are_checked(cs_team):
    account = make_account(cs_team["caio"])
    with pytest.raises(ServiceError) as err:
        journey.log_touchpoint(account, {"kind": "fax", "summary": "", "occurred_at": "2099-01-01T10:00"})
    assert set(err.value.errors) == {"kind", "summary", "occurred_at"}
    other = make_account(cs_team["caio"], name="Outra")
    from portal.cs.services.accounts import save_contact
    stranger = save_contact(other, {"name": "Pessoa de outra conta"})
    with pytest.raises(ServiceError) as err:
        journey.log_touchpoint(account, {"kind": "call", "summary": "x", "contact_id": str(stranger.id)})
    assert err.value.errors == {"contact_id": "Escolha um contato desta conta."}


def test_phase_history_gives_time_in_each_phase_and_a_stale_move_is_refused(cs_team):
    with time_machine.travel(at("2026-01-05 10:00"), tick=False):
        account = make_account(cs_team["caio"], name="Têxtil Boa Vista")
    with time_machine.travel(at("2026-02-04 10:00"), tick=False):
        journey.change_phase(account, "adoption", cs_team["caio"], "Go-live feito")
        db.session.commit()
    with time_machine.travel(at("2026-04-05 10:00"), tick=False):
        stays = journey.phase_history(account)
        assert [(s.phase, s.days, s.expected, s.late) for s in stays] == [
            ("onboarding", 30, 30, False), ("adoption", 60, 45, True)]
        assert journey.time_in_phase_totals(stays)["adoption"] == 60
        # someone else moved it meanwhile: this stale copy still says "adoption"
        db.session.execute(Account.__table__.update().where(Account.id == account.id).values(phase="ongoing"))
        with pytest.raises(ServiceError) as err:
            journey.change_phase(account, "renewal", cs_team["caio"])
        assert "mudou de fase" in err.value.errors["phase"]
        db.session.rollback()
    assert db.session.scalar(select(func.count(PhaseChange.id)).where(PhaseChange.account_id == account.id)) == 2


def test_onboarding_checklist_is_idempotent(cs_team):
    account = make_account(cs_team["caio"])
    assert journey.set_step(account, "kickoff", True, cs_team["caio"]) is True
    assert journey.set_step(account, "kickoff", True, cs_team["caio"]) is False  # double click
    db.session.commit()
    assert list(journey.onboarding_steps(account)) == ["kickoff"]
    assert journey.set_step(account, "kickoff", False, cs_team["caio"]) is True
    assert db.session.scalar(select(func.count(OnboardingStep.id))) == 0
    with pytest.raises(ServiceError):
        journey.set_step(account, "festa", True)


def test_work_list_orders_overdue_first_and_respects_scope(cs_team):
    with time_machine.travel(at("2026-03-01 10:00"), tick=False):
        late = make_account(cs_team["caio"], name="Atrasada")           # due 16/03
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        soon = make_account(cs_team["caio"], name="Vence em breve")     # due 25/03
        later = make_account(cs_team["caio"], name="Vence depois")      # due 25/03 → moved below
        update_account(later, {"employees": 500}, cs_team["leader"])    # Enterprise onboarding: every 7 days
        make_account(cs_team["bia"], name="Da Bia")
        make_account(cs_team["outsider"], name="De fora")
        db.session.commit()
    with time_machine.travel(at("2026-03-20 10:00"), tick=False):
        mine = queries.work_list(cs_team["caio"])
        assert [(i.account.name, i.status) for i in mine.items] == [
            ("Atrasada", "overdue"), ("Vence depois", "overdue"), ("Vence em breve", "soon")]
        assert mine.items[0].first.days == -4 and mine.counts["overdue"] == 2
        team = queries.work_list(cs_team["leader"])
        assert {i.account.name for i in team.items} == {"Atrasada", "Vence depois", "Vence em breve", "Da Bia"}
        only_bia = queries.work_list(cs_team["leader"], csm_id=cs_team["bia"].id)
        assert [i.account.name for i in only_bia.items] == ["Da Bia"]
    assert later.next_follow_up_at == at("2026-03-17 09:00")
    assert soon.next_follow_up_at - late.next_follow_up_at == timedelta(days=9)
