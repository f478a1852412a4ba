"""Health score: a fixture account's measures give a score computed by hand; the CSM's flag caps it; a
recompute is deterministic (same rows, same numbers); the daily history answers "dropped N points in 30
days"; and every score explains itself (each measure's points and the change since last week)."""
from datetime import date, timedelta

import time_machine
from sqlalchemy import func, select

from portal.cs.models import Account, HealthScore
from portal.cs.services import health, journey, usage
from portal.cs.services.accounts import update_account
from portal.cs.services.risk import set_risk_flag
from portal.extensions import db
from tests.cs.conftest import at, make_account

DAY = date(2026, 3, 16)  # a Monday


def test_each_measure_on_its_own():
    # usage: 5/day against a 10/day baseline is half; a steady feature is whole; the mean is 75
    assert health.usage_measure({"a": (35, 280), "b": (28, 112)}, True) == 75
    assert health.usage_measure({"a": (50, 280)}, True) == 100 * 50 // 70  # 71
    assert health.usage_measure({"novo": (5, 0)}, True) == 100
    assert health.usage_measure({}, True) == 0 and health.usage_measure({}, False) is None
    assert health.engagement_measure({"a", "b", "c"}, {"a", "b", "x"}) == 67
    assert health.engagement_measure(set(), {"a"}) is None
    assert health.support_measure(2, 1) == 55 and health.support_measure(9, 3) == 0
    assert [health.nps_measure(n) for n in (10, 9, 8, 7, 6, 0, None)] == [100, 100, 70, 70, 30, 0, None]
    assert [health.finance_measure(d) for d in (0, 15, 30, 60, 90)] == [100, 75, 50, 0, 0]
    assert health.relationship_measure(10, 15, False) == 70
    assert health.relationship_measure(20, 15, False) == 47
    assert health.relationship_measure(40, 45, True) == 100


def test_missing_measures_are_left_out_and_the_weights_renormalized():
    weights = {"weights": {"usage": 30, "engagement": 20, "support": 15, "nps": 15, "finance": 10,
                           "relationship": 10}, "green_at": 70, "yellow_at": 40, "flag_cap": 39}
    result = health.combine({"usage": None, "engagement": None, "support": 100, "nps": None, "finance": 50,
                             "relationship": 50}, weights)
    # (15*100 + 10*50 + 10*50) / 35 = 71.4
    assert result.score == 71 and result.grade == "green"
    assert result.measures["usage"] == {"score": None, "weight": 30, "points": 0.0}


def fixture_account(cs_team, catalog):
    """ME/PME in onboarding (follow-up every 15 days), 2 open tickets and 1 SLA breach, NPS 8, 15 days
    overdue, last contact 20 days ago, Despesas contracted (3 key features, 2 of them used)."""
    with time_machine.travel(at("2026-01-05 10:00"), tick=False):
        account = make_account(cs_team["caio"], name="Agência Rota Sul", product_ids=[catalog["expenses"].id],
                               open_tickets=2, sla_breaches=1, last_nps=8, days_overdue=15)
    with time_machine.travel(at("2026-03-16 08:00"), tick=False):
        journey.log_touchpoint(account, {"kind": "call", "summary": "Alinhamento da implantação",
                                         "occurred_at": "2026-02-24T10:00"}, cs_team["caio"])
        rows = []
        for i in range(35):
            day = DAY - timedelta(days=35 - i)
            recent = day >= DAY - timedelta(days=7)
            rows.append({"cnpj": account.cnpj, "day": day.isoformat(), "feature": "relatorio_economia",
                         "count": 5 if recent else 10})
            rows.append({"cnpj": account.cnpj, "day": day.isoformat(), "feature": "aprovacao", "count": 4})
        usage.ingest(rows)
        db.session.commit()
    return account


def test_fixture_account_scores_67_yellow_and_the_flag_caps_it(cs_team, catalog):
    account = fixture_account(cs_team, catalog)
    with time_machine.travel(at("2026-03-16 08:00"), tick=False):
        health.recompute(DAY)
        db.session.commit()
        row = health.latest(account)
        assert {k: v["score"] for k, v in row.measures.items()} == {
            "usage": 75, "engagement": 67, "support": 55, "nps": 70, "finance": 75, "relationship": 47}
        # 75×.30 + 67×.20 + 55×.15 + 70×.15 + 75×.10 + 47×.10 = 66.85
        assert (row.score, row.grade) == (67, "yellow")
        assert abs(sum(m["points"] for m in row.measures.values()) - 66.85) < 0.11
        account = db.session.get(Account, account.id)
        assert (account.health_score, account.health_grade, account.churn_risk_since) == (67, "yellow", None)

        set_risk_flag(account, True, "Diretor novo quer rever contratos", cs_team["caio"])
        db.session.commit()
        row = health.latest(account)
        assert (row.score, row.grade, row.flagged, row.measures["uncapped"]) == (39, "red", True, 67)
        account = db.session.get(Account, account.id)
        assert account.health_grade == "red" and account.churn_risk_since is not None
        assert db.session.scalar(select(func.count(HealthScore.id))) == 1  # same day: replaced

        set_risk_flag(account, False, "", cs_team["caio"])
        db.session.commit()
        assert health.latest(account).score == 67
        assert db.session.get(Account, account.id).churn_risk_since is None


def test_recompute_is_deterministic(cs_team, catalog):
    account = fixture_account(cs_team, catalog)
    with time_machine.travel(at("2026-03-16 08:00"), tick=False):
        health.recompute(DAY)
        db.session.commit()
        first = [(r.account_id, r.day, r.score, r.grade, r.measures)
                 for r in db.session.execute(select(HealthScore)).scalars()]
    with time_machine.travel(at("2026-03-16 23:00"), tick=False):
        health.recompute(DAY)
        db.session.commit()
        db.session.expire_all()
        again = [(r.account_id, r.day, r.score, r.grade, r.measures)
                 for r in db.session.execute(select(HealthScore)).scalars()]
    assert again == first and len(first) == 1 and first[0][0] == account.id


def test_history_answers_dropped_n_points_in_30_days_and_why(cs_team, catalog):
    steady = fixture_account(cs_team, catalog)
    falling = make_account(cs_team["bia"], name="Hotel Serra Azul")
    other_team = make_account(cs_team["outsider"], name="Fora da Equipe")
    start = DAY - timedelta(days=30)
    with time_machine.travel(at("2026-02-14 08:00"), tick=False):
        health.recompute(start)
        db.session.commit()
    with time_machine.travel(at("2026-03-09 08:00"), tick=False):
        update_account(db.session.get(Account, falling.id), {"days_overdue": 30}, cs_team["bia"])
        health.recompute(DAY - timedelta(days=7))
        db.session.commit()
    with time_machine.travel(at("2026-03-16 08:00"), tick=False):
        for acc in (falling, other_team):
            update_account(db.session.get(Account, acc.id), {"days_overdue": 60, "open_tickets": 4,
                                                              "sla_breaches": 2}, cs_team["bia"])
        health.recompute(DAY)
        db.session.commit()
        drops = health.dropped(20, days=30, day=DAY)
        # same fall for both: biggest drop first, then by name
        assert [a.name for a, _, _ in drops] == ["Fora da Equipe", "Hotel Serra Azul"]
        assert all(then - now >= 20 for _, then, now in drops)
        assert steady.id not in {a.id for a, _, _ in drops}
        # the leader sees their team only; the CSM their own portfolio
        assert [a.name for a, _, _ in health.dropped(20, day=DAY, user=cs_team["leader"])] == ["Hotel Serra Azul"]
        assert health.dropped(20, day=DAY, user=cs_team["caio"]) == []
        assert health.dropped(90, day=DAY) == []

        why = health.why(db.session.get(Account, falling.id))
        assert why.previous.day == DAY - timedelta(days=7)
        finance = next(line for line in why.lines if line.key == "finance")
        assert (finance.previous_score, finance.score) == (50, 0)
        assert finance.delta_points < 0
        assert why.delta == why.current.score - why.previous.score < 0
        assert db.session.get(Account, falling.id).health_change_7d == why.delta
