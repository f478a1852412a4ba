"""Churn records with the seeded, editable reason taxonomy and logo / revenue churn on a fixture month."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.errors import ServiceError
from portal.cs.nps_models import Churn, ChurnReason
from portal.cs.services import churn
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import at, make_account


def _reason(name):
    churn.ensure_default_reasons()
    return db.session.execute(select(ChurnReason).where(ChurnReason.name == name)).scalar_one()


def _account(csm, name, mrr, created="2026-01-10 10:00"):
    account = make_account(csm=csm, name=name, mrr=mrr)
    account.created_at = at(created)
    db.session.commit()
    return account


def test_taxonomy_seeded_and_editable(app):
    names = {r.name for r in churn.all_reasons()}
    assert {"Percepção de valor", "Suporte", "Falta de uso", "Inadimplência", "Decisão top-down", "Experiência",
            "Produto não evolui", "Concorrente"} <= names
    support = _reason("Suporte")
    churn.save_reason({"name": "Suporte técnico", "active": "0"}, support)
    churn.save_reason({"name": "Preço"})
    db.session.commit()
    assert support.name == "Suporte técnico" and not support.active
    assert "Suporte técnico" not in {r.name for r in churn.active_reasons()}
    with pytest.raises(ServiceError):
        churn.save_reason({"name": "preço"})


def test_logo_and_revenue_churn_on_fixture_month(app, cs_team):
    caio = cs_team["caio"]
    a = _account(caio, "Alfa", "1.000,00")
    b = _account(caio, "Beta", "2.000,00")
    c = _account(caio, "Gama", "3.000,00")
    d = _account(caio, "Delta", "4.000,00")
    _account(caio, "Nova", "9.000,00", created="2026-03-05 10:00")  # not in March's base
    value = _reason("Percepção de valor").id
    churn.record_churn(d, {"kind": "cancellation", "churn_date": "2026-02-20", "reason_id": value})  # before March
    churn.record_churn(a, {"kind": "cancellation", "churn_date": "15/03/2026", "reason_id": value,
                           "what_happened": "Trocou de fornecedor", "signals": "Uso caiu", "changes": "QBR"})
    churn.record_churn(b, {"kind": "downgrade", "churn_date": "2026-03-20", "mrr_lost": "500,00",
                           "reason_id": _reason("Falta de uso").id})
    churn.record_churn(c, {"kind": "non_renewal", "churn_date": "2026-04-02", "reason_id": value})  # after
    db.session.commit()
    march = churn.month_figures(cs_team["leader"], date(2026, 3, 1))
    # base: Alfa, Beta, Gama (Delta lost in Feb, Nova created in March)
    assert march["base_accounts"] == 3 and march["logos_lost"] == 1
    assert march["logo_churn_pct"] == pytest.approx(33.3)
    # base MRR: Beta's current 2.000 + what Alfa (1.000), Beta (500) and Gama (3.000) lost from March on
    assert march["base_mrr_cents"] == 650_000
    assert march["mrr_lost_cents"] == 150_000
    assert march["revenue_churn_pct"] == pytest.approx(23.1)
    assert churn.month_figures(cs_team["outsider"], date(2026, 3, 1))["base_accounts"] == 0
    groups = churn.breakdown(cs_team["leader"], date(2026, 3, 1), date(2026, 5, 1))
    assert groups["reason"] == [("Percepção de valor", (2, 400_000)), ("Falta de uso", (0, 50_000))]
    assert groups["csm"] == [("Caio CSM", (2, 450_000))]


def test_record_from_account_page(app, client, cs_team):
    account = make_account(csm=cs_team["caio"], name="Omega", mrr="1.200,00")
    login(client, cs_team["caio"].email)
    url = f"/sucesso/contas/{account.id}/churn"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"kind": "", "churn_date": ""}).status_code == 422
    done = client.post(url, data={"kind": "cancellation", "churn_date": "2026-03-01",
                                  "reason_id": _reason("Concorrente").id, "what_happened": "Foi para o concorrente"})
    assert done.status_code == 302
    record = db.session.execute(select(Churn)).scalar_one()
    assert record.mrr_lost_cents == 120_000 and record.csm_id == cs_team["caio"].id
    assert "Foi para o concorrente" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert client.get("/sucesso/churn").status_code == 200
    assert churn.records(cs_team["outsider"]) == [] and churn.records(cs_team["leader"]) == [record]
