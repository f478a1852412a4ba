"""NPS per product on fixed answers (hand-computed), the editable topic list, the CSM's topic tags on
detractor and passive answers (htmx), and the "most negative topics" ranking with drill-down, in scope."""
import time_machine
from sqlalchemy import select

from portal.errors import ServiceError
from portal.cs.nps_models import NpsResponse, NpsTopic
from portal.cs.services import accounts as account_services
from portal.cs.services import nps, nps_topics
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import at, make_account


def _answer(account, score, when="2026-03-10 10:00", comment=""):
    with time_machine.travel(at(when), tick=False):
        response = nps.answer(nps.survey_token(account), score, comment)
        db.session.commit()
    return response


def _topic(name):
    nps_topics.ensure_default_topics()
    return db.session.execute(select(NpsTopic).where(NpsTopic.name == name)).scalar_one()


def test_nps_per_product_on_fixed_answers(app, client, cs_team, catalog):
    card = account_services.save_product({"name": "Cartão corporativo"})
    db.session.commit()
    expenses, travel = catalog["expenses"], catalog["travel"]
    caio = cs_team["caio"]
    a = make_account(caio, name="Alfa Ltda", product_ids=[expenses.id, travel.id])
    b = make_account(caio, name="Beta Ltda", product_ids=[expenses.id])
    c = make_account(caio, name="Gama Ltda", product_ids=[travel.id, card.id])
    for account, scores in ((a, (10, 9, 6)), (b, (8, 3)), (c, (10, 10, 7))):
        for score in scores:
            _answer(account, score)
    # Despesas: 10 9 6 8 3 → 2 promoters, 2 detractors of 5 → 0
    # Viagens: 10 9 6 10 10 7 → 4 promoters, 1 detractor of 6 → 50
    # Cartão: 10 10 7 → 2 promoters of 3 → 66.7 → 67
    data = nps.report(cs_team["leader"])
    by_product = {name: (f["nps"], f["total"], f["promoters"], f["passives"], f["detractors"])
                  for name, f in data["by_product"]}
    assert by_product == {"Cartão corporativo": (67, 3, 2, 1, 0), "Despesas": (0, 5, 2, 1, 2),
                          "Viagens": (50, 6, 4, 1, 1)}
    assert [name for name, _ in data["by_product"]] == ["Cartão corporativo", "Despesas", "Viagens"]

    # an answer counts for the products the account had when it was given
    a.products = [card]
    db.session.commit()
    _answer(a, 0)
    by_product = {name: f["nps"] for name, f in nps.report(cs_team["leader"])["by_product"]}
    assert by_product == {"Cartão corporativo": 25, "Despesas": 0, "Viagens": 50}  # card: 10 10 7 0

    login(client, caio.email)
    body = client.get("/sucesso/nps?periodo=2026-03").get_data(as_text=True)
    assert "Por produto" in body and "Cartão corporativo" in body
    assert "<td>Viagens</td><td class=\"num\"><strong>50</strong></td><td class=\"num\">6</td>" in body
    # another month has no answers: no product rows
    assert "Cartão corporativo" not in client.get("/sucesso/nps?periodo=2026-01").get_data(as_text=True)


def test_topic_list_is_seeded_and_editable_by_leaders(app, client, cs_team):
    names = [t.name for t in nps_topics.active_topics()]
    for expected in ("Suporte", "Preço", "Usabilidade", "Bugs", "Performance", "Treinamento", "Integrações",
                     "Atendimento comercial"):
        assert expected in names
    login(client, cs_team["caio"].email)
    assert client.get("/sucesso/nps/topicos").status_code == 403  # CSMs tag, leaders edit the list
    client.post("/logout")
    login(client, cs_team["leader"].email)
    assert client.post("/sucesso/nps/topicos", data={"name": "  Contrato   e renovação "}).status_code == 302
    assert client.post("/sucesso/nps/topicos", data={"name": "suporte"}).status_code == 422  # duplicate
    assert client.post("/sucesso/nps/topicos", data={"name": ""}).status_code == 422
    price = _topic("Preço")
    assert client.post("/sucesso/nps/topicos", data={"id": price.id, "name": "Preço e reajuste",
                                                     "active": ["0"]}).status_code == 302
    db.session.expire_all()
    assert (price.name, price.active) == ("Preço e reajuste", False)
    active = [t.name for t in nps_topics.active_topics()]
    assert "Contrato e renovação" in active and "Preço e reajuste" not in active
    assert "Preço e reajuste" in client.get("/sucesso/nps/topicos").get_data(as_text=True)


def test_csm_tags_negative_answers_with_htmx(app, client, cs_team):
    caio = cs_team["caio"]
    account = make_account(caio, name="Alfa Ltda")
    other = make_account(cs_team["outsider"], name="Fora Ltda")
    detractor = _answer(account, 3, comment="Suporte demora e o sistema trava")
    promoter = _answer(account, 10)
    outside = _answer(other, 2)
    support, bugs, price = _topic("Suporte"), _topic("Bugs"), _topic("Preço")
    login(client, caio.email)
    page = client.get(f"/sucesso/nps/respostas/{detractor.id}").get_data(as_text=True)
    assert "Tópicos do comentário" in page and 'hx-post="/sucesso/nps/respostas/' in page
    assert "Tópicos do comentário" not in client.get(f"/sucesso/nps/respostas/{promoter.id}").get_data(as_text=True)

    url = f"/sucesso/nps/respostas/{detractor.id}/topicos"
    swap = client.post(url, data={"topic_id": [support.id, bugs.id]}, headers={"HX-Request": "true"})
    html = swap.get_data(as_text=True)
    assert swap.status_code == 200 and html.lstrip().startswith('<section class="card nps-topics" id="nps-topics">')
    assert "Salvo: Bugs, Suporte." in html and f'value="{support.id}" checked' in html
    db.session.expire_all()
    assert [t.name for t in db.session.get(NpsResponse, detractor.id).topics] == ["Bugs", "Suporte"]
    # unticking one keeps the other; without JS the form posts and comes back to the answer page
    assert client.post(url, data={"topic_id": [bugs.id]}).status_code == 302
    db.session.expire_all()
    assert [t.name for t in db.session.get(NpsResponse, detractor.id).topics] == ["Bugs"]

    # promoters are not tagged, retired topics cannot be added, other portfolios are 404
    refused = client.post(f"/sucesso/nps/respostas/{promoter.id}/topicos", data={"topic_id": [support.id]},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "detratores e neutros" in refused.get_data(as_text=True)
    price.active = False
    db.session.commit()
    assert client.post(url, data={"topic_id": [price.id]}, headers={"HX-Request": "true"}).status_code == 422
    assert client.post(f"/sucesso/nps/respostas/{outside.id}/topicos", data={"topic_id": [bugs.id]}).status_code == 404
    db.session.expire_all()
    assert [t.name for t in db.session.get(NpsResponse, detractor.id).topics] == ["Bugs"]
    assert db.session.get(NpsResponse, promoter.id).topics == []
    with_retired = db.session.get(NpsResponse, detractor.id)
    nps_topics.set_topics(with_retired, [bugs.id])
    with_retired.topics.append(price)  # a topic retired after tagging stays on the answer …
    db.session.commit()
    nps_topics.set_topics(with_retired, [bugs.id, price.id])  # … and may be kept
    try:
        nps_topics.set_topics(with_retired, ["x"])
        raise AssertionError("a bad id must be refused")
    except ServiceError as exc:
        assert "topics" in exc.errors


def test_most_negative_topics_count_in_period_and_scope_with_drill_down(app, client, cs_team):
    caio, bia, outsider = cs_team["caio"], cs_team["bia"], cs_team["outsider"]
    a = make_account(caio, name="Alfa Ltda")
    b = make_account(bia, name="Beta Ltda")
    c = make_account(outsider, name="Gama Ltda")
    support, bugs, price, training = (_topic(n) for n in ("Suporte", "Bugs", "Preço", "Treinamento"))
    tagged = [  # account, score, month, topics
        (a, 2, "2026-03-05 10:00", [support, bugs]),
        (a, 7, "2026-03-06 10:00", [support]),            # a passive counts too
        (b, 5, "2026-03-07 10:00", [support, price]),
        (b, 8, "2026-03-08 10:00", [price]),
        (a, 4, "2026-02-20 10:00", [training, support]),  # another month
        (c, 0, "2026-03-09 10:00", [training, support]),  # another team's portfolio
    ]
    responses = []
    for account, score, when, topics in tagged:
        response = _answer(account, score, when)
        nps_topics.set_topics(response, [t.id for t in topics])
        responses.append(response)
    _answer(a, 6, "2026-03-10 10:00")  # a detractor not tagged yet
    _answer(a, 10, "2026-03-11 10:00")  # promoters never count
    db.session.commit()
    march = (at("2026-03-01 00:00"), at("2026-04-01 00:00"))

    ranking = [(r["topic"].name, r["total"], r["detractors"], r["passives"])
               for r in nps_topics.most_negative(cs_team["leader"], *march)]
    assert ranking == [("Suporte", 3, 2, 1), ("Preço", 2, 1, 1), ("Bugs", 1, 1, 0)]
    assert [(r["topic"].name, r["total"]) for r in nps_topics.most_negative(caio, *march)] == [("Suporte", 2),
                                                                                               ("Bugs", 1)]
    everything = {r["topic"].name: r["total"] for r in nps_topics.most_negative(cs_team["admin"])}
    assert everything == {"Suporte": 5, "Preço": 2, "Treinamento": 2, "Bugs": 1}
    assert nps_topics.untagged_count(cs_team["leader"], *march) == 1

    login(client, cs_team["leader"].email)
    body = client.get("/sucesso/nps?periodo=2026-03").get_data(as_text=True)
    assert "Tópicos mais negativos" in body
    assert f'/sucesso/nps/topicos/{support.id}?periodo=2026-03' in body
    assert "1 resposta de detrator ou neutro ainda sem tópico" in body
    drill = client.get(f"/sucesso/nps/topicos/{support.id}?periodo=2026-03").get_data(as_text=True)
    for response in responses[:3]:
        assert f"/sucesso/nps/respostas/{response.id}\"" in drill
    for response in responses[3:]:  # Preço only, February, other team
        assert f"/sucesso/nps/respostas/{response.id}\"" not in drill
    assert "Gama Ltda" not in drill
    client.post("/logout")
    login(client, caio.email)
    drill = client.get(f"/sucesso/nps/topicos/{support.id}?periodo=2026-03").get_data(as_text=True)
    assert "Alfa Ltda" in drill and "Beta Ltda" not in drill


class _Queries:
    """Counts the SQL statements run inside the block (a report must not run one per answer)."""
    def __enter__(self):
        from sqlalchemy import event
        self.count, self._event = 0, event
        event.listen(db.engine, "before_cursor_execute", self._hit)
        return self

    def _hit(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        self._event.remove(db.engine, "before_cursor_execute", self._hit)


def test_nps_report_runs_the_same_queries_for_one_or_many_open_detractors(app, client, cs_team):
    caio = cs_team["caio"]
    login(client, caio.email)

    def measure():
        db.session.expire_all()
        with time_machine.travel(at("2026-03-20 10:00"), tick=False), _Queries() as queries:
            page = client.get("/sucesso/nps?periodo=2026-03")
        assert page.status_code == 200 and "prazo 12/03/2026" in page.get_data(as_text=True)
        return queries.count

    _answer(make_account(caio, name="Alfa Ltda"), 2)
    one = measure()
    for name in ("Beta Ltda", "Gama Ltda", "Delta Ltda"):
        _answer(make_account(caio, name=name), 3)
    assert measure() == one


def test_nps_rounds_half_away_from_zero():
    # 1 promoter, 7 passives of 8 = 12,5 → 13; 1 detractor, 7 passives = −12,5 → −13; 3 of 8 = 37,5 → 38
    assert nps.compute_nps([10] + [7] * 7)["nps"] == 13
    assert nps.compute_nps([0] + [7] * 7)["nps"] == -13
    assert nps.compute_nps([10] * 3 + [7] * 5)["nps"] == 38
    assert nps.compute_nps([10, 9, 6, 8, 3])["nps"] == 0 and nps.compute_nps([])["nps"] is None
