"""One input layer: odd ids are 404, NUL / lone surrogates are a field error or a 422, never a 500; phones
with letters are refused and international-dial prefixes accepted. Through the real endpoints."""
import io
import json
import re

import pytest
from sqlalchemy import func, select

from portal import normalize
from portal.extensions import db
from portal.accounts import apiclients
from portal.presales.models import Lead, LeadContactKey
from portal.presales.services.intake import intake
from portal.realestate.models import Unit
from tests.factories import make_development, make_user
from tests.presales.conftest import funnel, sales  # noqa: F401 - fixtures shared with the presales tests


@pytest.fixture
def token(sales):  # noqa: F811
    _, plaintext, _ = apiclients.create_client("Site institucional", scopes=["leads:write", "webhooks:rdstation"])
    db.session.commit()
    return plaintext


def post_json(client, payload, token, path="/api/v1/leads"):
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(path, data=raw, content_type="application/json", headers={"Authorization": f"Bearer {token}"})


def lead_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Lead.id)))


# --- the normalizers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["00 55 11 91234-5678", "0055 11 912345678", "0055-11-91234-5678",
                                  "(0055) 11 91234-5678", "+55 (11) 91234-5678", "11 91234-5678"])
def test_international_dial_prefix_is_read_as_plus(text):
    assert normalize.phone(text) == "+5511912345678"


def test_a_foreign_number_dialled_with_00_keeps_its_country():
    assert normalize.phone("001 212 555 0100") == "+12125550100"


@pytest.mark.parametrize("text", ["(11) 91234-CASA", "11 9ABC-DEFG", "+55 11 91234-5678 ramal 3", "tel 11912345678"])
def test_letters_are_refused_not_read_through_the_keypad(text):
    with pytest.raises(normalize.InvalidValue, match="letras"):
        normalize.phone(text)


@pytest.mark.parametrize("text, expected", [("12", 12), ("0", 0), (" 7 ", 7), (2147483647, 2147483647),
                                            ("2147483647", 2147483647), ("2147483648", None),
                                            ("99999999999999999999", None), ("١", None), ("²", None),
                                            ("１", None), ("-1", None), ("1e3", None), ("", None), (None, None),
                                            (True, None), (-5, None)])
def test_row_id_takes_ascii_digits_within_integer_range(text, expected):
    assert normalize.row_id(text) == expected


def test_forbidden_fields_names_the_nested_path():
    found = normalize.forbidden_fields({"name": "Ana\x00", "ok": "Ana", "extra": {"tags": ["x", "\ud800"]}})
    assert set(found) == {"name", "extra.tags[1]"}


# --- routes and query strings ------------------------------------------------------------------------------

@pytest.mark.parametrize("odd", ["99999999999999999999", "9223372036854775808", "2147483648", "١", "²"])
def test_lead_page_with_an_odd_id_is_404(client, sales, login_as, odd):  # noqa: F811
    lead = intake({"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "channel": "manual"}).lead
    db.session.commit()
    assert lead.id == 1  # '١' is Arabic-Indic one: werkzeug's int converter used to open this lead
    login_as(sales["admin"])
    assert client.get(f"/pre-vendas/leads/{lead.id}").status_code == 200
    assert client.get(f"/pre-vendas/leads/{odd}").status_code == 404


@pytest.mark.parametrize("query", ["page=9223372036854775808", "page=²", "q=%00"])
def test_query_string_odd_values_are_not_a_500(client, sales, login_as, query):  # noqa: F811
    login_as(sales["admin"])
    status = client.get(f"/pre-vendas/leads?{query}").status_code
    assert status == (400 if "%00" in query else 200)


# --- text with NUL or a lone surrogate ---------------------------------------------------------------------

@pytest.mark.parametrize("raw_name", ["Ana\\u0000Silva", "Ana\\ud800Silva"])
def test_api_refuses_nul_and_lone_surrogates_per_field(client, token, raw_name):
    raw = '{"name": "%s", "email": "ana@exemplo.com.br", "extra": {"nota": "ok"}}' % raw_name
    r = post_json(client, raw, token)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(r.get_json()["errors"]) == {"name"}
    assert lead_count() == 0


def test_api_refuses_nul_inside_extra(client, token):
    r = post_json(client, {"name": "Ana", "email": "ana@exemplo.com.br", "extra": {"utm": ["a", "b\x00"]}}, token)
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"extra.utm[1]"}
    assert lead_count() == 0


def test_public_form_with_nul_is_422_and_saves_nothing(client, sales):  # noqa: F811
    page = client.get("/f/jardim-europa").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/f/jardim-europa", data={"csrf_token": csrf, "name": "Fernanda\x00", "consent": "y",
                                              "email": "fernanda@exemplo.com.br", "website": ""})
    assert r.status_code == 422 and "caracteres não permitidos" in r.get_data(as_text=True)
    assert lead_count() == 0


def test_manual_lead_form_with_nul_is_422_naming_the_field(client, sales, login_as):  # noqa: F811
    login_as(sales["admin"])
    r = client.post("/pre-vendas/leads/novo", data={"name": "Fernanda\x00Rocha", "email": "f@exemplo.com.br",
                                                    "channel": "manual"})
    assert r.status_code == 422 and "“name”" in r.get_data(as_text=True)
    assert lead_count() == 0


def test_nul_in_a_path_part_is_404(client, sales):  # noqa: F811
    assert client.get("/f/jardim%00europa").status_code == 404


# --- RD Station: one bad contact does not sink the batch -------------------------------------------------------

def test_rd_batch_saves_the_good_contacts_and_reports_the_bad_ones(client, token):
    raw = json.dumps({"leads": [
        {"name": "Ricardo Nunes", "email": "ricardo@exemplo.com.br"},
        {"name": "Nul\u0000Name", "email": "nul@exemplo.com.br"},
        {"name": "Juliana Prado", "email": "juliana@exemplo.com.br", "city": "S\u00e3o Paulo"},
        {"name": "Surrogate", "email": "sur@exemplo.com.br", "city": "PLACEHOLDER"},
        {"name": "Tiago Moreira", "email": "tiago@exemplo.com.br", "personal_phone": "(11) 9ABCD-EFGH"},
    ]}).replace("PLACEHOLDER", "\\ud800")  # json.dumps cannot write a lone surrogate; RD's JSON can carry one
    r = post_json(client, raw, token, path="/api/v1/webhooks/rdstation")
    assert r.status_code == 200, r.get_data(as_text=True)  # RD resends the whole batch on non-2xx
    answer = r.get_json()
    assert (answer["received"], answer["created"], answer["invalid"]) == (5, 3, 2)
    results = answer["results"]
    assert [x["status"] for x in results] == ["created", "invalid", "created", "invalid", "created"]
    assert results[1]["errors"] == {"name": normalize.FORBIDDEN_TEXT}
    assert results[3]["errors"] == {"extra.rdstation.city": normalize.FORBIDDEN_TEXT}
    assert "phone" in results[4]["warnings"]  # the keypad would have made a fake number of it
    emails = set(db.session.execute(select(Lead.email)).scalars())
    assert emails == {"ricardo@exemplo.com.br", "juliana@exemplo.com.br", "tiago@exemplo.com.br"}
    assert db.session.execute(select(Lead.phone).where(Lead.email == "tiago@exemplo.com.br")).scalar() is None


# --- phones through intake: the dedup key is the real E.164 ------------------------------------------------------

def test_phone_with_letters_is_a_field_error_through_the_api(client, token):
    r = post_json(client, {"name": "Ana", "phone": "(11) 91234-CASA"}, token)
    assert r.status_code == 422 and "letras" in r.get_json()["errors"]["phone"]
    assert lead_count() == 0


def test_00_prefix_is_accepted_and_deduplicates_with_the_plus_form(client, token):
    first = post_json(client, {"name": "Ana Souza", "phone": "00 55 11 91234-5678"}, token)
    assert first.status_code == 201, first.get_json()
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.phone == "+5511912345678"
    keys = set(db.session.execute(select(LeadContactKey.key)).scalars())
    assert any(k.endswith("+5511912345678") for k in keys), keys
    again = post_json(client, {"name": "Ana S.", "phone": "+55 (11) 91234-5678"}, token)
    assert again.status_code == 200 and again.get_json() == {"number": first.get_json()["number"],
                                                             "status": "duplicate"}
    assert lead_count() == 1


# --- CSV imports ------------------------------------------------------------------------------------------

def _units_import(client, login_as, data: bytes):
    staff = make_user("personalization")
    dev = make_development(staff=[staff], units_per_tower=1)
    login_as(staff)
    before = db.session.scalar(select(func.count(Unit.id)))
    r = client.post(f"/empreendimentos/{dev.id}/unidades/importar", data={"file": (io.BytesIO(data), "u.csv")},
                    content_type="multipart/form-data")
    return r, before


def test_csv_cell_with_nul_after_the_first_4_kb_is_a_row_error(client, login_as):
    filler = "".join(f"Torre A;{100 + i};1;;58,40;Disponível\n" for i in range(200))  # past the 4 KB sniff
    data = ("torre;unidade;andar;tipologia;area_privativa_m2;status\n" + filler
            + "Torre\x00B;999;1;;58,40;Disponível\n").encode()
    assert data.index(b"\x00") > 4096
    r, before = _units_import(client, login_as, data)
    assert r.status_code == 422 and "caracteres não permitidos" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Unit.id))) == before


def test_csv_cell_over_128_kb_is_a_file_error(client, login_as):
    data = ("torre;unidade;andar;tipologia;area_privativa_m2;status\n"
            f"Torre A;101;1;;58,40;{'x' * 200_000}\n").encode()
    r, before = _units_import(client, login_as, data)
    assert r.status_code == 422 and "passa de 128 KB" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Unit.id))) == before


# --- CS usage API (JSON rows) -------------------------------------------------------------------------------

def test_usage_api_refuses_odd_counts_and_nul_per_row_and_writes_nothing(client, app):
    import time_machine

    from portal.cs.models import UsageMetric
    from tests.cs.conftest import make_account

    account = make_account()
    _, tok, _ = apiclients.create_client("Produto (telemetria)", scopes=["cs:usage:write"])
    db.session.commit()
    rows = [{"cnpj": account.cnpj, "day": "2026-03-15", "feature": "relatorio", "count": "²"},
            {"cnpj": account.cnpj, "day": "2026-03-15", "feature": "relatorio", "count": "١٢"},
            {"cnpj": account.cnpj, "day": "2026-03-15", "feature": "rel\x00atorio", "count": 3}]
    with time_machine.travel("2026-03-16 10:00", tick=False):
        r = client.post("/api/v1/cs/usage", json={"rows": rows}, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert set(r.get_json()["errors"]) == {"rows[0].count", "rows[1].count", "rows[2].feature"}
    assert db.session.scalar(select(func.count(UsageMetric.id))) == 0
