"""CSM capacity: editable capacity settings, loads against them, the greedy rebalancing proposal, and the bulk
reassignment (one transaction, audited, published, scoped)."""
from flask import g
from sqlalchemy import select

from portal.accounts.models import AuditLog
from portal.automation.models import Event
from portal.cs.models import Account
from portal.cs.services import capacity
from portal.cs.settings import get_settings
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import make_account
from tests.factories import make_team, make_user


def _switch(app, user):
    """Another browser for another user (the test's app context caches the logged-in user in `g`)."""
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, user.email)
    return client


def _acc(csm, name, mrr, segment="smb"):
    account = make_account(csm=csm, name=name, mrr=mrr)
    account.segment = segment
    db.session.commit()
    return account


def _small_capacity(leader, enterprise=2, smb=4, mrr="10.000,00"):
    capacity.save_capacity({"accounts-enterprise": str(enterprise), "accounts-smb": str(smb), "mrr": mrr}, leader)
    db.session.commit()


def test_capacity_settings_are_editable_with_field_errors(app, client, cs_team):
    assert capacity.Capacity.current() == capacity.Capacity({"enterprise": 30, "smb": 40}, 10_000_000)
    login(client, cs_team["caio"].email)
    assert client.get("/sucesso/capacidade").status_code == 403
    assert client.post("/sucesso/capacidade/configuracao", data={"accounts-enterprise": "5"}).status_code == 403
    client = _switch(app, cs_team["leader"])
    page = client.get("/sucesso/capacidade").get_data(as_text=True)
    assert 'value="30"' in page and 'value="40"' in page and "100.000,00" in page
    bad = client.post("/sucesso/capacidade/configuracao",
                      data={"accounts-enterprise": "0", "accounts-smb": "quarenta", "mrr": "-5"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "contas Enterprise por CSM" in text and "contas ME/PME por CSM" in text and "Valor inválido" in text
    assert get_settings().capacity["accounts_per_csm"] == {"enterprise": 30, "smb": 40}  # nothing saved
    ok = client.post("/sucesso/capacidade/configuracao",
                     data={"accounts-enterprise": "25", "accounts-smb": "50", "mrr": "120.000,00"})
    assert ok.status_code == 302
    assert capacity.Capacity.current() == capacity.Capacity({"enterprise": 25, "smb": 50}, 12_000_000)
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "cs.settings.capacity")).scalar_one()
    assert entry.user_id == cs_team["leader"].id


def test_loads_follow_the_configured_capacity(app, cs_team):
    caio = cs_team["caio"]
    for i in range(10):
        _acc(caio, f"Conta {i}", "1.000,00")
    _acc(caio, "Grande", "5.000,00", segment="enterprise")
    data = capacity.overview(cs_team["leader"])
    caio_load = next(load for load in data["loads"] if load.user_id == caio.id)
    assert caio_load.load_pct == 28  # 10/40 + 1/30 = 28,3 %; MRR 15.000 = 15 %
    _small_capacity(cs_team["leader"], enterprise=2, smb=20, mrr="20.000,00")
    data = capacity.overview(cs_team["leader"])
    caio_load = next(load for load in data["loads"] if load.user_id == caio.id)
    assert (caio_load.account_pct, caio_load.mrr_pct, caio_load.load_pct) == (100, 75, 100)
    assert not caio_load.overloaded and not caio_load.fits("smb", 0)
    assert data["needed"] == 1 and data["have"] == 2  # Caio and Bia; the leader carries no book


def test_rebalancing_proposal_is_greedy_and_deterministic(app, client, cs_team):
    leader, caio, bia = cs_team["leader"], cs_team["caio"], cs_team["bia"]
    dani = make_user("csm", team=cs_team["team"], name="Dani CSM")
    _small_capacity(leader)  # 2 Enterprise, 4 ME/PME, R$ 10.000 per CSM
    mine = [_acc(caio, f"Caio {i}", f"1.{i}00,00") for i in range(6)]  # 6/4 = 150 %
    _acc(bia, "Bia 0", "1.000,00")                                       # 25 %
    orphan = _acc(None, "Sem dono", "3.000,00", segment="enterprise")
    plan = capacity.suggestions(leader)
    assert [(s.account_name, s.from_name, s.to_name) for s in plan] == [
        ("Sem dono", "Sem CSM", "Dani CSM"),  # Dani ends at 50 %, Bia would end at 75 %
        ("Caio 0", "Caio CSM", "Bia CSM"),    # smallest MRR first; Bia 50 % vs Dani 75 %
        ("Caio 1", "Caio CSM", "Bia CSM"),    # tie at 75 %: by name; Caio is back at 100 %
    ]
    assert capacity.suggestions(leader) == plan

    login(client, leader.email)
    page = client.get("/sucesso/capacidade").get_data(as_text=True)
    assert "Sem dono" in page and "Aplicar todas (3)" in page
    one = client.post("/sucesso/capacidade/reatribuir", data={"account_ids": mine[0].id, "csm_id": bia.id})
    assert one.status_code == 302
    assert [s.account_name for s in capacity.suggestions(leader)] == ["Sem dono", "Caio 1"]
    assert client.post("/sucesso/capacidade/sugestoes/aplicar").status_code == 302
    db.session.expire_all()
    assert orphan.csm_id == dani.id and mine[1].csm_id == bia.id and mine[2].csm_id == caio.id
    assert capacity.suggestions(leader) == []
    assert client.post("/sucesso/capacidade/sugestoes/aplicar").status_code == 422


def test_mrr_overload_moves_the_smallest_account_that_clears_it(app, cs_team):
    leader, caio, bia = cs_team["leader"], cs_team["caio"], cs_team["bia"]
    _small_capacity(leader, enterprise=10, smb=10, mrr="10.000,00")
    for name, mrr in (("Quatro", "4.000,00"), ("Cinco", "5.000,00"), ("Três", "3.000,00")):
        _acc(caio, name, mrr)                                   # R$ 12.000: R$ 2.000 over
    assert [(s.account_name, s.to_name) for s in capacity.suggestions(leader)] == [("Três", "Bia CSM")]
    _acc(bia, "Enorme", "9.500,00")                             # now nobody has room for any of them
    assert capacity.suggestions(leader) == []


def test_bulk_reassignment_is_one_audited_scoped_transaction(app, client, cs_team):
    leader, caio, bia = cs_team["leader"], cs_team["caio"], cs_team["bia"]
    a, b = _acc(caio, "Alfa", "1.000,00"), _acc(caio, "Beta", "2.000,00", segment="enterprise")
    foreign = _acc(cs_team["outsider"], "Alheia", "1.000,00")
    url = "/sucesso/capacidade/reatribuir"

    login(client, caio.email)  # a CSM cannot reassign
    assert client.post(url, data={"account_ids": [a.id], "csm_id": bia.id}).status_code == 403

    client = _switch(app, leader)
    listing = client.get(f"/sucesso/capacidade?csm={caio.id}&segment=enterprise").get_data(as_text=True)
    assert f'id="acc-{b.id}"' in listing and f'id="acc-{a.id}"' not in listing
    cases = [
        ({"account_ids": [a.id, b.id], "csm_id": "999999"}, "Escolha um CSM ativo"),
        ({"account_ids": [a.id, b.id], "csm_id": cs_team["outsider"].id}, "Escolha um CSM ativo"),
        ({"account_ids": [a.id, foreign.id], "csm_id": bia.id}, f"#{foreign.id}"),
        ({"account_ids": [a.id, "x"], "csm_id": bia.id}, "Seleção de contas inválida"),
        ({"csm_id": bia.id}, "Selecione ao menos uma conta"),
    ]
    for data, reason in cases:
        answer = client.post(url, data=data)
        assert answer.status_code == 422 and reason in answer.get_data(as_text=True), data
    db.session.expire_all()
    assert {a.csm_id, b.csm_id} == {caio.id} and foreign.csm_id == cs_team["outsider"].id
    assert db.session.query(AuditLog).filter_by(action="account.reassigned").count() == 0

    done = client.post(url, data={"account_ids": [a.id, b.id], "csm_id": bia.id, "filter_csm": caio.id})
    assert done.status_code == 302 and f"csm={caio.id}" in done.headers["Location"]
    db.session.expire_all()
    assert a.csm_id == bia.id and b.csm_id == bia.id
    audits = db.session.execute(select(AuditLog).where(AuditLog.action == "account.reassigned")
                                .order_by(AuditLog.object_id)).scalars().all()
    assert [(x.object_id, x.details["from_csm_id"], x.details["to_csm_id"], x.user_id) for x in audits] == [
        (str(a.id), caio.id, bia.id, leader.id), (str(b.id), caio.id, bia.id, leader.id)]
    events = db.session.execute(select(Event).where(Event.type == "account.reassigned")).scalars().all()
    assert sorted(e.subject_id for e in events) == [a.id, b.id]
    assert events[0].payload == {"de": "Caio CSM", "para": "Bia CSM"}
    assert "Conta mudou de CSM" in client.get(f"/sucesso/contas/{a.id}").get_data(as_text=True)  # timeline


def test_a_leader_reassigns_only_within_their_team(app, cs_team):
    other_leader = make_user("cs_leader", name="Olga Líder")
    team = make_team("Outra equipe", manager=other_leader)
    other_leader.team_id = team.id
    theirs = make_user("csm", team=team, name="Téo CSM")
    mine = _acc(cs_team["caio"], "Minha", "1.000,00")
    import pytest

    from portal.errors import ServiceError
    with pytest.raises(ServiceError) as denied:
        capacity.reassign(other_leader, [mine.id], theirs.id)
    assert "account_ids" in denied.value.errors
    with pytest.raises(ServiceError) as csm:
        capacity.reassign(cs_team["caio"], [mine.id], cs_team["bia"].id)
    assert "Só líderes" in csm.value.errors["csm_id"]
    admin_moved = capacity.reassign(cs_team["admin"], [mine.id], theirs.id)  # admin: everyone
    assert admin_moved == [mine] and db.session.get(Account, mine.id).csm_id == theirs.id


class _Queries:
    """Counts the SQL statements run inside the block (a page must not run one per row)."""
    def __enter__(self):
        from sqlalchemy import event
        self.count, self._event = 0, event
        event.listen(db.engine, "before_cursor_execute", self._hit)
        return self

    def _hit(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        self._event.remove(db.engine, "before_cursor_execute", self._hit)


def test_capacity_page_reads_the_book_once_whatever_the_team_size(app, client, cs_team, monkeypatch):
    _acc(cs_team["caio"], "Alfa", "1.000,00")
    _acc(cs_team["bia"], "Beta", "2.000,00")
    login(client, cs_team["admin"].email)
    books = []
    real_book = capacity._book
    monkeypatch.setattr(capacity, "_book", lambda user: books.append(user) or real_book(user))

    def measure():
        db.session.expire_all()
        with _Queries() as queries:
            page = client.get("/sucesso/capacidade")
        assert page.status_code == 200
        return queries.count

    one = measure()
    assert len(books) == 1  # the loads and the rebalancing proposal share one reading of the book
    for i in range(3):  # more leaders (each one a row to consider) must not mean more queries
        leader = make_user("cs_leader", name=f"Líder {i}")
        _acc(leader, f"Carteira {i}", "1.000,00")
    assert measure() == one


def test_the_proposal_does_not_change_the_loads_shown(app, cs_team):
    _small_capacity(cs_team["leader"], smb=2)
    for i in range(3):
        _acc(cs_team["caio"], f"Conta {i}", "1.000,00")
    data = capacity.overview(cs_team["leader"])
    before = {load.user_id: (dict(load.accounts), load.mrr_cents) for load in data["loads"]}
    assert capacity.suggestions(cs_team["leader"], data=data)
    assert {load.user_id: (dict(load.accounts), load.mrr_cents) for load in data["loads"]} == before


def test_reassignment_ids_beyond_any_row_are_field_errors(app, client, cs_team):
    a = _acc(cs_team["caio"], "Alfa", "1.000,00")
    login(client, cs_team["leader"].email)
    url = "/sucesso/capacidade/reatribuir"
    huge = "9" * 25
    for data, reason in (({"account_ids": [a.id], "csm_id": huge}, "Escolha um CSM ativo"),
                         ({"account_ids": [a.id, huge], "csm_id": cs_team["bia"].id}, "Seleção de contas inválida")):
        answer = client.post(url, data=data)
        assert answer.status_code == 422 and reason in answer.get_data(as_text=True), data
    assert client.get(f"/sucesso/capacidade?csm={huge}").status_code == 200  # a filter that matches no CSM
    db.session.expire_all()
    assert db.session.get(Account, a.id).csm_id == cs_team["caio"].id
