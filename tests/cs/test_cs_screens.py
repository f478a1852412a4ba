"""What the CS screens say, in pt-BR and labelled: the NPS period is a select of months written out in Portuguese
(the native month input rendered "December 2026" in an English browser), an older month typed in the address
stays selected; the churn reasons are one labelled row each."""
import re

import time_machine

from portal.cs.services import churn
from portal.extensions import db
from tests.cs.conftest import at


def test_nps_period_is_a_portuguese_month_select(client, login_as, cs_team):
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        login_as(cs_team["caio"])
        page = client.get("/sucesso/nps").get_data(as_text=True)
        assert 'type="month"' not in page
        select = re.search(r'<select class="input" id="periodo" name="periodo">(.*?)</select>', page, re.S).group(1)
        options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', select)
        assert options[:3] == [("tudo", "", "Todo o período"), ("2026-03", " selected", "março de 2026"),
                               ("2026-02", "", "fevereiro de 2026")]
        assert options[-1][::2] == ("2024-04", "abril de 2024") and len(options) == 25
        assert '<label for="periodo">Período</label>' in page

        everything = client.get("/sucesso/nps?periodo=tudo").get_data(as_text=True)
        assert '<option value="tudo" selected>Todo o período</option>' in everything

        older = client.get("/sucesso/nps?periodo=2023-01").get_data(as_text=True)
        assert '<option value="2023-01" selected>janeiro de 2023</option>' in older
        assert "Respostas de 01/2023" in older


def test_churn_reasons_are_labelled_rows(client, login_as, cs_team):
    reason = churn.save_reason({"name": "Mudança de gestão"})
    db.session.commit()
    login_as(cs_team["leader"])
    page = client.get("/sucesso/churn/motivos").get_data(as_text=True)
    row = re.search(r'<li><form method="post" class="cs-reason-form">.*?id="reason-%d".*?</form></li>' % reason.id,
                    page, re.S).group(0)
    assert f'<label class="sr-only" for="reason-{reason.id}">Nome do motivo</label>' in row
    assert '<label class="check"><input type="checkbox" name="active" value="1" checked> Ativo</label>' in row
    assert '<label class="sr-only" for="new-reason">Nome do novo motivo</label>' in page
    assert 'class="stack"' not in page  # the unstyled bullet list it replaced


def test_nps_topics_are_labelled_rows_like_the_churn_reasons(client, login_as, cs_team):
    login_as(cs_team["leader"])
    assert client.post("/sucesso/nps/topicos", data={"name": "Cobrança indevida"}).status_code == 302
    page = client.get("/sucesso/nps/topicos").get_data(as_text=True)
    row = re.search(r'<li><form method="post" class="cs-reason-form">(?:(?!</li>).)*Cobrança indevida.*?</li>',
                    page, re.S).group(0)
    assert re.search(r'<label class="sr-only" for="topic-\d+">Nome do tópico</label>', row)
    assert '<label class="check"><input type="checkbox" name="active" value="1" checked> Ativo</label>' in row
    assert '<label class="sr-only" for="new-topic">Nome do novo tópico</label>' in page
