"""A detractor's deadline that has passed is flagged where people look for it: the NPS report, the answer's
page, the work list (overdue alerts on top, counted) and the account page say "atrasado" in words and colour;
one still within its deadline says only "prazo dd/mm/aaaa"."""
import re
from datetime import timedelta

import time_machine

from portal.cs.services import nps
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.web.filters import date_br
from tests.cs.conftest import make_account

OVERDUE_PILL = '<span class="pill pill-bad cs-overdue">atrasado</span>'


def block(html: str, pattern: str) -> str:
    """The first element of the page matching `pattern` (a regex from its opening tag to its end)."""
    found = re.search(pattern, html, re.S)
    assert found, f"{pattern!r} not on the page"
    return found.group(0)


def two_detractors(cs_team):
    """Serra Azul answered 0 three days ago (deadline 2 days: overdue); Andorinha answered 4 today."""
    caio = cs_team["caio"]
    late = make_account(csm=caio, name="Laticínios Serra Azul")
    fresh = make_account(csm=caio, name="Viagens Andorinha")
    with time_machine.travel(utcnow() - timedelta(days=nps.DETRACTOR_DUE_DAYS + 1), tick=False):
        late_answer = nps.answer(nps.survey_token(late), "0", "Sistema fora do ar")
        db.session.commit()
    fresh_answer = nps.answer(nps.survey_token(fresh), "4", "Lento")
    db.session.commit()
    return late_answer, fresh_answer


def test_nps_report_and_answer_page_flag_the_overdue_detractor(client, login_as, cs_team):
    late, fresh = two_detractors(cs_team)
    login_as(cs_team["caio"])

    page = client.get("/sucesso/nps?periodo=tudo").get_data(as_text=True)
    late_row = block(page, r'<li[^>]*>\s*<a href="/sucesso/nps/respostas/%d">.*?</li>' % late.id)
    fresh_row = block(page, r'<li[^>]*>\s*<a href="/sucesso/nps/respostas/%d">.*?</li>' % fresh.id)
    assert f"prazo {date_br(late.task.due_at)}" in late_row and OVERDUE_PILL in late_row
    assert f"prazo {date_br(fresh.task.due_at)}" in fresh_row and "atrasado" not in fresh_row
    assert re.search(r"Detratores a responder · <span[^>]*>1 atrasado</span>", page)

    answer = client.get(f"/sucesso/nps/respostas/{late.id}").get_data(as_text=True)
    assert OVERDUE_PILL in block(answer, r"<h2[^>]*>Responder o detrator.*?</h2>")
    answer = client.get(f"/sucesso/nps/respostas/{fresh.id}").get_data(as_text=True)
    assert "atrasado" not in block(answer, r"<h2[^>]*>Responder o detrator.*?</h2>")


def test_work_list_puts_the_overdue_alert_first_and_counts_it(client, login_as, cs_team):
    late, fresh = two_detractors(cs_team)
    login_as(cs_team["caio"])

    page = client.get("/sucesso/pendencias").get_data(as_text=True)
    alerts = re.findall(r'<li class="cs-alert" id="task-(\d+)">(.*?)</li>', page, re.S)
    assert [int(task_id) for task_id, _ in alerts] == [late.task_id, fresh.task_id]  # most overdue on top
    assert f"prazo {date_br(late.task.due_at)}" in alerts[0][1] and OVERDUE_PILL in alerts[0][1]
    assert "atrasado" not in alerts[1][1]
    counter = block(page, r'<li class="[^"]*"><a href="#alertas">.*?</li>')
    assert 'class="is-bad"' in counter and "2</strong> alertas, 1 atrasado" in counter

    home = client.get("/sucesso/").get_data(as_text=True)
    assert "Alertas abertos · 1 atrasado" in home

    account = client.get(f"/sucesso/contas/{late.account_id}").get_data(as_text=True)
    assert OVERDUE_PILL in block(account, r"<h3>Alertas abertos</h3>.*?</ul>")


def test_closing_the_overdue_detractor_clears_the_flag(client, login_as, cs_team):
    late, _ = two_detractors(cs_team)
    login_as(cs_team["caio"])
    assert client.post(f"/sucesso/nps/respostas/{late.id}",
                       data={"response_note": "Liguei e expliquei a queda", "action_plan": "Monitorar a API"}
                       ).status_code == 302
    page = client.get("/sucesso/pendencias").get_data(as_text=True)
    assert OVERDUE_PILL not in page and "atrasado</a>" not in page
    assert "atrasado" not in block(client.get("/sucesso/nps?periodo=tudo").get_data(as_text=True),
                                   r"Detratores a responder</h2>.*?</section>")
