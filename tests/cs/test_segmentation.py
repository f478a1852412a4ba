"""Segmentation from the seed's thresholds: Enterprise when MORE than 100 employees, MRR over R$ 2.000,00,
more than 2 products, came from a competitor or more than 4 contact points; the leader can require all of
them or at least N, and sees who would move before applying."""
import pytest
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.automation.models import Event
from portal.cs import segmentation
from portal.cs.models import Account
from portal.cs.settings import DEFAULT_SEGMENTATION, get_settings
from portal.extensions import db
from tests.cs.conftest import make_account

BASE = {"employees": 10, "mrr_cents": 50_000, "products_count": 1, "from_competitor": False, "contact_points": 1}


def classify(**values):
    return segmentation.classify({**BASE, **values}, DEFAULT_SEGMENTATION)


def test_exactly_100_employees_is_not_enterprise_but_101_is():
    assert classify(employees=100) == "smb"
    assert classify(employees=101) == "enterprise"


def test_mrr_exactly_two_thousand_reais_is_not_enterprise_but_one_centavo_more_is():
    assert classify(mrr_cents=200_000) == "smb"
    assert classify(mrr_cents=200_001) == "enterprise"


@pytest.mark.parametrize("values, expected", [
    ({"products_count": 2}, "smb"), ({"products_count": 3}, "enterprise"),
    ({"contact_points": 4}, "smb"), ({"contact_points": 5}, "enterprise"),
    ({"from_competitor": True}, "enterprise"), ({}, "smb"),
])
def test_each_seed_criterion_on_its_edge(values, expected):
    assert classify(**values) == expected


def test_all_and_at_least_n_modes():
    big_mrr_only = {**BASE, "mrr_cents": 900_000}
    two = {**BASE, "mrr_cents": 900_000, "employees": 500}
    every = {"employees": 500, "mrr_cents": 900_000, "products_count": 3, "from_competitor": True,
             "contact_points": 9}
    all_rules = {**DEFAULT_SEGMENTATION, "mode": "all"}
    two_rules = {**DEFAULT_SEGMENTATION, "mode": "at_least", "at_least": 2}
    assert segmentation.classify(two, all_rules) == "smb"
    assert segmentation.classify(every, all_rules) == "enterprise"
    assert segmentation.classify(big_mrr_only, two_rules) == "smb"
    assert segmentation.classify(two, two_rules) == "enterprise"


def test_disabled_criteria_do_not_count():
    rules = {**DEFAULT_SEGMENTATION, "criteria": [dict(c, enabled=c["field"] != "from_competitor")
                                                 for c in DEFAULT_SEGMENTATION["criteria"]]}
    assert segmentation.classify({**BASE, "from_competitor": True}, rules) == "smb"


def test_form_values_are_cleaned_money_in_reais_and_bad_numbers_answered():
    data = {"mode": "at_least", "at_least": "2", "employees_enabled": "y", "employees_op": "gt",
            "employees_value": "150", "mrr_cents_enabled": "y", "mrr_cents_op": "ge", "mrr_cents_value": "2.500,00",
            "products_count_op": "gt", "products_count_value": "2", "contact_points_op": "gt",
            "contact_points_value": "4", "from_competitor_enabled": "y"}
    rules = segmentation.clean_rules(data)
    by_field = {c["field"]: c for c in rules["criteria"]}
    assert by_field["mrr_cents"] == {"field": "mrr_cents", "op": "ge", "value": 250_000, "enabled": True}
    assert by_field["products_count"]["enabled"] is False
    with pytest.raises(ServiceError) as err:
        segmentation.clean_rules({**data, "employees_value": "muitos", "at_least": "7"})
    assert set(err.value.errors) == {"employees_value", "at_least"}


def test_accounts_are_segmented_on_save_and_the_touch_model_follows(cs_team):
    small = make_account(cs_team["caio"], employees=100, mrr="2.000,00")
    big = make_account(cs_team["caio"], name="Construtora Horizonte S.A.", employees=101, mrr="2.000,00")
    assert (small.segment, small.touch_model) == ("smb", "mid")
    assert (big.segment, big.touch_model) == ("enterprise", "high")


def test_resegmentation_preview_writes_nothing_and_apply_moves_exactly_those(cs_team):
    mid = make_account(cs_team["caio"], name="Médio Porte", employees=150, mrr="1.000,00")
    rich = make_account(cs_team["caio"], name="Ticket Alto", employees=20, mrr="3.000,00")
    make_account(cs_team["caio"], name="Pequena", employees=5, mrr="300,00")
    stricter = segmentation.clean_rules({"mode": "any", "employees_enabled": "y", "employees_op": "gt",
                                         "employees_value": "200", "mrr_cents_enabled": "y", "mrr_cents_op": "gt",
                                         "mrr_cents_value": "2.000,00", "products_count_value": "2",
                                         "contact_points_value": "4"})
    moves, seen = segmentation.preview(stricter)
    assert seen == 3
    assert [(m.account.name, m.current, m.proposed) for m in moves] == [("Médio Porte", "enterprise", "smb")]
    db.session.rollback()
    assert db.session.get(Account, mid.id).segment == "enterprise"  # preview changed nothing
    events_before = db.session.scalar(select(func.count(Event.id)))

    moved = segmentation.apply_rules(stricter, cs_team["leader"])
    db.session.commit()
    assert [m.account.id for m in moved] == [mid.id]
    assert db.session.get(Account, mid.id).segment == "smb"
    assert db.session.get(Account, rich.id).segment == "enterprise"
    assert get_settings().segmentation["criteria"][0]["value"] == 200
    assert db.session.scalar(select(func.count(Event.id))) == events_before + 1
