"""Usage metrics in, by API (bearer token) and by CSV: re-sending the same account/day/feature replaces the
count (never doubles); a malformed row answers 422 with the reason for each bad row and nothing is written."""
import io
import re
from datetime import date

import time_machine
from sqlalchemy import func, select

from portal.cs.models import Account, UsageMetric
from portal.extensions import db
from portal.accounts.apiclients import create_client
from tests.cs.conftest import at, make_account

TODAY = "2026-03-16 10:00"


def token_of(response):
    return re.search(r'name="token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def token():
    _, plaintext, _ = create_client("Produto (telemetria)", scopes=["cs:usage:write"])
    db.session.commit()
    return plaintext


def post(client, rows, tok, **kw):
    return client.post("/api/v1/cs/usage", json={"rows": rows}, headers={"Authorization": f"Bearer {tok}"}, **kw)


def usage_rows():
    return db.session.execute(select(UsageMetric.account_id, UsageMetric.day, UsageMetric.feature, UsageMetric.count)
                              .order_by(UsageMetric.day, UsageMetric.feature)).all()


def test_same_day_resent_replaces_never_doubles(client, cs_team):
    account = make_account(cs_team["caio"])
    tok = token()
    with time_machine.travel(at(TODAY), tick=False):
        first = post(client, [{"cnpj": account.cnpj, "day": "2026-03-15", "feature": "relatorio_economia", "count": 12},
                              {"cnpj": account.cnpj, "day": "2026-03-15", "feature": "aprovacao", "count": 3}], tok)
        assert first.status_code == 200, first.get_json()
        assert first.get_json() == {"status": "ok", "received": 2, "created": 2, "replaced": 0}
        # the client corrects one count and sends the same day again (formatted CNPJ this time)
        formatted = f"{account.cnpj[:2]}.{account.cnpj[2:5]}.{account.cnpj[5:8]}/{account.cnpj[8:12]}-{account.cnpj[12:]}"
        again = post(client, [{"cnpj": formatted, "day": "2026-03-15", "feature": "relatorio_economia", "count": 15}],
                     tok)
        assert again.get_json()["replaced"] == 1
    assert usage_rows() == [(account.id, date(2026, 3, 15), "aprovacao", 3),
                            (account.id, date(2026, 3, 15), "relatorio_economia", 15)]
    assert db.session.get(Account, account.id).last_usage_on == date(2026, 3, 15)


def test_malformed_rows_answer_422_with_reasons_and_nothing_is_written(client, cs_team):
    account = make_account(cs_team["caio"])
    tok = token()
    good = {"cnpj": account.cnpj, "day": "2026-03-15", "feature": "aprovacao", "count": 3}
    with time_machine.travel(at(TODAY), tick=False):
        response = post(client, [
            good,
            {"cnpj": "11.111.111/1111-11", "day": "2026-03-15", "feature": "aprovacao", "count": 1},
            {"cnpj": "11.222.333/0001-81", "day": "2026-03-15", "feature": "aprovacao", "count": 1},
            {"cnpj": account.cnpj, "day": "2026-03-17", "feature": "aprovacao", "count": 1},
            {"cnpj": account.cnpj, "day": "15/13/2026", "feature": "Relatório X", "count": -2},
            {"cnpj": account.cnpj, "day": "2026-03-14", "feature": "aprovacao", "count": "dez"},
            dict(good),
            "não é um objeto",
        ], tok)
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {
        "rows[1].cnpj": "CNPJ inválido.",
        "rows[2].cnpj": "Nenhuma conta com este CNPJ.",
        "rows[3].day": "O dia não pode estar no futuro.",
        "rows[4].day": "Dia inválido (use aaaa-mm-dd).",
        "rows[4].feature": "Informe o código da funcionalidade (letras minúsculas, números, _ . -; até 80).",
        "rows[4].count": "Informe a quantidade como número inteiro (0 ou mais).",
        "rows[5].count": "Informe a quantidade como número inteiro (0 ou mais).",
        "rows[6]": "Repete a linha 0 (mesma conta, dia e funcionalidade).",
        "rows[7]": "Cada linha precisa ser um objeto com cnpj, day, feature e count.",
    }
    assert "Nenhuma linha foi gravada" in body["message"]
    assert usage_rows() == []  # the good first row was not written either


def test_api_refuses_missing_or_bad_tokens_and_non_json(client, cs_team):
    account = make_account(cs_team["caio"])
    row = [{"cnpj": account.cnpj, "day": "2026-03-15", "feature": "aprovacao", "count": 1}]
    missing = client.post("/api/v1/cs/usage", json={"rows": row})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(client, row, "pk_nao-existe").status_code == 401
    tok = token()
    text = client.post("/api/v1/cs/usage", data="cnpj;dia", headers={"Authorization": f"Bearer {tok}"},
                       content_type="text/csv")
    assert text.status_code == 415
    broken = client.post("/api/v1/cs/usage", data="{", headers={"Authorization": f"Bearer {tok}"},
                         content_type="application/json")
    assert broken.status_code == 400
    empty = post(client, [], tok)
    assert empty.status_code == 422 and "rows" in empty.get_json()["errors"]
    assert usage_rows() == []


def test_csv_usage_import_previews_then_replaces_on_reimport(client, cs_team, login_as):
    account = make_account(cs_team["caio"])
    login_as(cs_team["leader"])
    csv = (f"cnpj;dia;funcionalidade;quantidade\n{account.cnpj};15/03/2026;aprovacao;4\n"
           f"{account.cnpj};14/03/2026;aprovacao;2\n").encode()
    with time_machine.travel(at(TODAY), tick=False):
        preview = client.post("/sucesso/importar/uso", data={"file": (io.BytesIO(csv), "uso.csv")},
                              content_type="multipart/form-data")
        assert preview.status_code == 200
        assert usage_rows() == []  # preview writes nothing
        done = client.post("/sucesso/importar/uso/confirmar", data={"token": token_of(preview)})
        assert done.status_code == 302
        assert db.session.scalar(select(func.count(UsageMetric.id))) == 2
        fixed = f"cnpj;dia;funcionalidade;quantidade\n{account.cnpj};15/03/2026;aprovacao;9\n".encode()
        preview = client.post("/sucesso/importar/uso", data={"file": (io.BytesIO(fixed), "uso.csv")},
                              content_type="multipart/form-data")
        assert "Atualizado" in preview.get_data(as_text=True)
        bad = f"cnpj;dia;funcionalidade;quantidade\n{account.cnpj};99/03/2026;aprovacao;-1\n".encode()
        refused = client.post("/sucesso/importar/uso", data={"file": (io.BytesIO(bad), "uso.csv")},
                              content_type="multipart/form-data")
        assert refused.status_code == 422
        assert "Dia inválido" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(UsageMetric.id))) == 2
