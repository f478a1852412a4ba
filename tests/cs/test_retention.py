"""Gross and net revenue retention on a fixture book, with the figures computed by hand, and the two ways an
MRR expansion is recorded (the account page's form, and any raise of an account's MRR)."""
from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from portal.errors import ServiceError
from portal.automation.models import Event
from portal.cs.nps_models import ChurnReason
from portal.cs.retention_models import MrrChange
from portal.cs.services import churn
from portal.cs.services.accounts import update_account
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import at, make_account


def _reason(name="Percepção de valor"):
    churn.ensure_default_reasons()
    return db.session.execute(select(ChurnReason).where(ChurnReason.name == name)).scalar_one().id


def _account(csm, name, mrr, created="2025-03-10 10:00"):
    account = make_account(csm=csm, name=name, mrr=mrr)
    account.created_at = at(created)
    db.session.commit()
    return account


def _book(csm):
    """Six clients since March 2025 and one won in March 2026; movements in Feb, March and April 2026."""
    accounts = {name: _account(csm, name, mrr) for name, mrr in (
        ("Alfa", "1.000,00"), ("Beta", "2.000,00"), ("Gama", "3.000,00"), ("Delta", "4.000,00"),
        ("Épsilon", "5.000,00"), ("Zeta", "6.000,00"))}
    accounts["Nova"] = _account(csm, "Nova", "9.000,00", created="2026-03-05 10:00")
    churn.record_churn(accounts["Zeta"], {"kind": "cancellation", "churn_date": "2026-02-20", "reason_id": _reason()})
    churn.record_churn(accounts["Alfa"], {"kind": "cancellation", "churn_date": "2026-03-15", "reason_id": _reason()})
    churn.record_churn(accounts["Beta"], {"kind": "downgrade", "churn_date": "2026-03-20", "mrr_lost": "500,00",
                                          "reason_id": _reason("Falta de uso")})
    db.session.commit()
    with time_machine.travel(at("2026-03-25 11:00"), tick=False):
        update_account(accounts["Delta"], {"mrr": "5.000,00"})  # a raise on the edit form: expansion, today
        update_account(accounts["Nova"], {"mrr": "10.000,00"})  # not a client when March began
        db.session.commit()
    with time_machine.travel(at("2026-04-20 11:00"), tick=False):
        churn.record_expansion(accounts["Gama"], {"new_mrr": "4.000,00", "change_date": "10/03/2026"})
        churn.record_expansion(accounts["Épsilon"], {"new_mrr": "7.000,00", "change_date": "2026-04-05",
                                                     "note": "Módulo de viagens"})
        db.session.commit()
    return accounts


def test_grr_and_nrr_on_a_fixture_month(app, cs_team):
    _book(cs_team["caio"])
    march = churn.month_figures(cs_team["leader"], date(2026, 3, 1))
    # clients on 1 March: Alfa 1.000, Beta 2.500 (before its downgrade), Gama 3.000, Delta 4.000, Épsilon 5.000
    assert march["base_accounts"] == 5
    assert march["base_mrr_cents"] == 1_550_000
    assert march["churned_mrr_cents"] == 100_000       # Alfa
    assert march["contraction_mrr_cents"] == 50_000    # Beta's downgrade
    assert march["expansion_mrr_cents"] == 200_000     # Gama +1.000, Delta +1.000 (Nova was not a client yet)
    assert march["logo_churn_pct"] == 20.0
    assert march["revenue_churn_pct"] == 9.7           # 1.500 / 15.500
    assert march["grr_pct"] == 90.3                    # 14.000 / 15.500
    assert march["nrr_pct"] == 103.2                   # 16.000 / 15.500

    april = churn.month_figures(cs_team["leader"], date(2026, 4, 1))
    # Beta 2.000, Gama 4.000, Delta 5.000, Épsilon 5.000 (before its April expansion), Nova 10.000
    assert (april["base_accounts"], april["base_mrr_cents"]) == (5, 2_600_000)
    assert april["grr_pct"] == 100.0 and april["expansion_mrr_cents"] == 200_000
    assert april["nrr_pct"] == 107.7                   # 28.000 / 26.000

    with time_machine.travel(at("2026-04-20 11:00"), tick=False):
        year = churn.trailing(cs_team["leader"], date(2026, 4, 20))
    # window May 2025 – April 2026; cohort: the six clients since March 2025, 21.500 at the start
    assert year["month"] == date(2025, 5, 1) and year["end"] == date(2026, 5, 1)
    assert (year["base_accounts"], year["base_mrr_cents"]) == (6, 2_150_000)
    assert (year["churned_mrr_cents"], year["contraction_mrr_cents"], year["expansion_mrr_cents"]) == (
        700_000, 50_000, 400_000)
    assert year["grr_pct"] == 65.1                     # 14.000 / 21.500
    assert year["nrr_pct"] == 83.7                     # 18.000 / 21.500

    empty = churn.month_figures(cs_team["outsider"], date(2026, 3, 1))
    assert empty["base_mrr_cents"] == 0 and empty["grr_pct"] is None and empty["nrr_pct"] is None


def test_expansions_are_recorded_with_their_source(app, cs_team):
    accounts = _book(cs_team["caio"])
    rows = {(c.account.name, c.source): c for c in db.session.execute(select(MrrChange)).scalars()}
    assert set(rows) == {("Delta", "account"), ("Nova", "account"), ("Gama", "manual"), ("Épsilon", "manual")}
    delta = rows[("Delta", "account")]
    assert (delta.change_date, delta.amount_cents, delta.mrr_before_cents, delta.mrr_after_cents) == (
        date(2026, 3, 25), 100_000, 400_000, 500_000)
    assert delta.csm_id == cs_team["caio"].id and delta.segment == accounts["Delta"].segment
    gama = rows[("Gama", "manual")]
    assert gama.change_date == date(2026, 3, 10) and accounts["Gama"].mrr_cents == 400_000
    # a creation is not an expansion; a decrease is a downgrade (recorded as churn), not a movement here
    update_account(accounts["Beta"], {"mrr": "1.500,00"})
    db.session.commit()
    assert db.session.query(MrrChange).count() == 4


def test_same_day_correction_cancels_the_automatic_expansion(app, cs_team):
    account = _account(cs_team["caio"], "Ômega", "1.000,00")
    with time_machine.travel(at("2026-05-04 10:00"), tick=False):
        update_account(account, {"mrr": "10.000,00"})  # typo
        db.session.commit()
        update_account(account, {"mrr": "1.200,00"})   # fixed minutes later: only +200 is an expansion
        db.session.commit()
        change = db.session.execute(select(MrrChange)).scalar_one()
        assert (change.amount_cents, change.mrr_after_cents) == (20_000, 120_000)
        update_account(account, {"mrr": "1.000,00"})
        db.session.commit()
        assert db.session.query(MrrChange).count() == 0
    with time_machine.travel(at("2026-05-05 10:00"), tick=False):
        update_account(account, {"mrr": "1.100,00"})
        update_account(account, {"mrr": "1.050,00"})   # within one flush: the pending row shrinks
        db.session.commit()
        assert db.session.execute(select(MrrChange.amount_cents)).scalar_one() == 5_000


def test_expansion_form_checks_input_and_feeds_the_churn_page(app, client, cs_team):
    account = _account(cs_team["caio"], "Sigma", "2.000,00")
    login(client, cs_team["caio"].email)
    url = f"/sucesso/contas/{account.id}/expansao"
    with time_machine.travel(at("2026-06-10 10:00"), tick=False):
        assert client.get(url).status_code == 200
        lower = client.post(url, data={"new_mrr": "1.500,00", "change_date": "2026-06-01"})
        assert lower.status_code == 422 and "downgrade" in lower.get_data(as_text=True)
        future = client.post(url, data={"new_mrr": "3.000,00", "change_date": "2026-07-01"})
        assert future.status_code == 422 and "futuro" in future.get_data(as_text=True)
        bad = client.post(url, data={"new_mrr": "abc"})
        assert bad.status_code == 422 and "Valor inválido" in bad.get_data(as_text=True)
        assert db.session.query(MrrChange).count() == 0
        done = client.post(url, data={"new_mrr": "2.600,00", "change_date": "2026-06-01", "note": "Mais 20 usuários"})
        assert done.status_code == 302
        db.session.expire_all()
        assert account.mrr_cents == 260_000
        change = db.session.execute(select(MrrChange)).scalar_one()  # the form's record only, not a second one
        assert (change.amount_cents, change.source, change.note) == (60_000, "manual", "Mais 20 usuários")
        event = db.session.execute(select(Event).where(Event.type == "account.mrr_expanded")).scalar_one()
        assert event.subject_id == account.id and event.payload["expansao"] == "R$ 600,00"
        page = client.get("/sucesso/churn").get_data(as_text=True)
        assert "GRR" in page and "NRR" in page and "Mais 20 usuários" in page and "R$ 600,00" in page
    # outside the CSM's portfolio: 404
    other = _account(cs_team["outsider"], "Fora", "1.000,00")
    assert client.post(f"/sucesso/contas/{other.id}/expansao", data={"new_mrr": "9.000,00"}).status_code == 404
    with pytest.raises(ServiceError):
        churn.record_expansion(account, {"new_mrr": "2.600,00"})  # not more than today's


class _Queries:
    """Counts the SQL statements run inside the block (a list must not run one per row)."""
    def __enter__(self):
        from sqlalchemy import event
        self.count, self._event = 0, event
        event.listen(db.engine, "before_cursor_execute", self._hit)
        return self

    def _hit(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        self._event.remove(db.engine, "before_cursor_execute", self._hit)


def test_churn_page_has_a_plain_title_and_loads_its_lists_in_bulk(app, client, cs_team):
    caio = cs_team["caio"]
    login(client, caio.email)

    def churned(name):
        account = _account(caio, name, "1.000,00")
        churn.record_churn(account, {"kind": "cancellation", "churn_date": "2026-05-04", "reason_id": _reason()})
        churn.record_expansion(_account(caio, name + " Mais", "1.000,00"), {"new_mrr": "2.000,00",
                                                                           "change_date": "2026-05-04"})
        db.session.commit()

    def measure():
        db.session.expire_all()
        with _Queries() as queries:
            page = client.get("/sucesso/churn").get_data(as_text=True)
        return queries.count, page

    with time_machine.travel(at("2026-06-10 10:00"), tick=False):
        churned("Alfa")
        one, page = measure()
        churned("Beta")
        churned("Gama")
        many, page = measure()
    title = page[page.index("<title>"):page.index("</title>")]
    assert "<h2" not in title and "Churn" in title
    assert page.count('id="expansions"') == 1
    assert many == one


def test_churn_reason_form_refuses_an_unknown_reason_id(app, client, cs_team):
    login(client, cs_team["leader"].email)
    before = len(churn.all_reasons())
    db.session.commit()
    assert client.post("/sucesso/churn/motivos", data={"id": "abc", "name": "Preço"}).status_code == 404
    assert client.post("/sucesso/churn/motivos", data={"id": "999999", "name": "Preço"}).status_code == 404
    db.session.expire_all()
    assert len(churn.all_reasons()) == before


def test_churn_form_refuses_an_impossible_mrr(app, client, cs_team):
    account = _account(cs_team["caio"], "Sigma", "2.000,00")
    login(client, cs_team["caio"].email)
    for value in ("1e30", "99999999999999999999"):
        response = client.post(f"/sucesso/contas/{account.id}/churn", data={
            "kind": "downgrade", "churn_date": "2026-05-04", "mrr_lost": value, "reason_id": _reason()})
        assert response.status_code == 422 and "Valor inválido" in response.get_data(as_text=True)
    from portal.cs.nps_models import Churn
    assert db.session.query(Churn).count() == 0
