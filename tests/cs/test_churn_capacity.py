"""CSM capacity (the book's load against 1:30 Enterprise, 1:40 ME/PME, R$ 100.000 MRR per CSM)."""
from portal.cs.services import capacity
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import make_account


def test_loads_and_csms_needed(app, client, cs_team):
    caio, bia = cs_team["caio"], cs_team["bia"]
    for i in range(20):
        account = make_account(csm=caio, name=f"Conta {i}", mrr="1.000,00")
        account.segment = "smb"
    big = make_account(csm=bia, name="Grande SA", mrr="150.000,00")
    big.segment = "enterprise"
    db.session.commit()
    data = capacity.overview(cs_team["leader"])
    loads = {load.name: load for load in data["loads"]}
    assert loads["Caio CSM"].load_pct == 50  # 20/40 accounts; MRR 20.000 = 20 %
    assert loads["Bia CSM"].load_pct == 150  # MRR 150.000 / 100.000
    assert data["needed"] == 2  # MRR 170.000 → 2 CSMs
    login(client, cs_team["leader"].email)
    page = client.get("/sucesso/capacidade")
    assert page.status_code == 200 and "150%" in page.get_data(as_text=True)
