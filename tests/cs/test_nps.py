"""NPS: computation on fixed answers, signed single-use links answered without login, the detractor task
that cannot close without a response note and an action plan, the report per segment/CSM."""
import pytest
from sqlalchemy import select

from portal.errors import ServiceError
from portal.automation.models import Task
from portal.cs.nps_models import NpsResponse
from portal.cs.services import nps
from portal.extensions import db
from tests.conftest import login
from tests.cs.conftest import make_account


def test_compute_nps_on_fixed_answers():
    figures = nps.compute_nps([10, 9, 9, 8, 7, 6, 0, 10, 3, 5])
    assert figures == {"nps": 0, "total": 10, "promoters": 4, "passives": 2, "detractors": 4}
    assert nps.compute_nps([10, 9, 8, 2])["nps"] == 25
    assert nps.compute_nps([])["nps"] is None


def test_link_answers_once_without_login(app, client, cs_team):
    account = make_account(csm=cs_team["caio"])
    path = nps.survey_url(account).split("localhost", 1)[1]
    db.session.commit()  # the link's survey row, as the rule's send commits it
    page = client.get(path)
    assert page.status_code == 200 and "0 a 10" in page.get_data(as_text=True)
    assert client.post(path, data={"score": "11"}).status_code == 422
    done = client.post(path, data={"score": "9", "comment": "Ótimo suporte"})
    assert done.status_code == 200 and "Obrigado" in done.get_data(as_text=True)
    again = client.post(path, data={"score": "0"})
    assert "Obrigado" in again.get_data(as_text=True)
    rows = db.session.execute(select(NpsResponse)).scalars().all()
    assert [(r.score, r.comment) for r in rows] == [(9, "Ótimo suporte")]
    db.session.refresh(account)
    assert account.last_nps == 9
    assert client.get("/sucesso/nps/r/forjado.abc").status_code == 404
    assert db.session.execute(select(Task)).first() is None  # promoters create no task
    # each rendering of the rule field is a new link
    assert account.nps_link != account.nps_link


def test_detractor_task_needs_note_and_plan(app, client, cs_team):
    account = make_account(csm=cs_team["caio"])
    response = nps.answer(nps.survey_token(account), "4", "Sistema lento")
    db.session.commit()
    task = db.session.get(Task, response.task_id)
    assert task.assignee_id == cs_team["caio"].id and task.due_at is not None and task.done_at is None
    # closing the task directly (any screen) is refused while the answer lacks note and plan
    task.done_at = task.due_at
    with pytest.raises(ServiceError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(ServiceError) as exc:
        nps.close_detractor(response, "Liguei e pedi desculpas", "")
    assert "action_plan" in exc.value.errors
    db.session.rollback()

    login(client, cs_team["caio"].email)
    url = f"/sucesso/nps/respostas/{response.id}"
    assert client.post(url, data={"response_note": "", "action_plan": ""}).status_code == 422
    assert client.post(url, data={"response_note": "Liguei", "action_plan": "Otimizar relatório"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_at is not None
    assert db.session.get(NpsResponse, response.id).closed_at is not None


def test_report_per_segment_and_csm_in_scope(app, client, cs_team):
    caio, bia, outsider = cs_team["caio"], cs_team["bia"], cs_team["outsider"]
    a = make_account(csm=caio, name="Alfa Ltda")
    b = make_account(csm=bia, name="Beta Ltda")
    c = make_account(csm=outsider, name="Gama Ltda")
    for account, score in ((a, 10), (a, 9), (b, 3), (c, 0)):
        nps.answer(nps.survey_token(account), score)
    db.session.commit()
    data = nps.report(cs_team["leader"])
    assert data["overall"]["total"] == 3 and data["overall"]["nps"] == 33
    assert {name: f["nps"] for name, f in data["by_csm"]} == {"Caio CSM": 100, "Bia CSM": -100}
    assert nps.report(caio)["overall"]["total"] == 2
    login(client, cs_team["leader"].email)
    page = client.get("/sucesso/nps")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Beta Ltda" in body and "Gama Ltda" not in body
    # a response out of scope is 404
    other = db.session.execute(select(NpsResponse).where(NpsResponse.account_id == c.id)).scalar_one()
    assert client.get(f"/sucesso/nps/respostas/{other.id}").status_code == 404


def test_overdue_detractor_task_escalates_to_the_leader_once(app, cs_team):
    from datetime import timedelta

    from portal.automation.models import Notification
    from portal.dbtypes import utcnow
    account = make_account(csm=cs_team["caio"])
    response = nps.answer(nps.survey_token(account), "2", "Ruim")
    db.session.commit()
    assert nps.escalate_overdue() == 0  # not due yet
    later = utcnow() + timedelta(days=nps.DETRACTOR_DUE_DAYS, hours=1)
    assert nps.escalate_overdue(later) == 1
    nps.escalate_overdue(later)
    db.session.commit()
    (note,) = db.session.execute(select(Notification)).scalars().all()
    assert note.user_id == cs_team["leader"].id and str(response.id) in note.url
    nps.close_detractor(response, "Liguei", "Plano")
    db.session.commit()
    assert nps.escalate_overdue(later) == 0


def test_two_answers_racing_on_one_link_keep_one_and_refuse_the_other(app, cs_team):
    import threading
    account = make_account(csm=cs_team["caio"])
    path = nps.survey_url(account).split("localhost", 1)[1]
    db.session.commit()
    barrier, statuses = threading.Barrier(2), []

    def post(score):
        with app.test_client() as c:
            barrier.wait()
            statuses.append(c.post(path, data={"score": score}).status_code)

    threads = [threading.Thread(target=post, args=(s,)) for s in ("9", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert len(db.session.execute(select(NpsResponse)).scalars().all()) == 1
