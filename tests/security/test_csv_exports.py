"""Spreadsheet formula injection (issue 15, item 4): every CSV the portal hands out — exports, import
templates, report files made by the real report job — escapes text that a spreadsheet would run as a
formula. The CSV endpoints are found by requesting every GET route as an admin and keeping those that
answer text/csv, so a new export is covered without touching this file."""
import csv
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from portal.extensions import db
from portal.presales.demo import ensure_defaults
from portal.presales.services.intake import intake
from portal.realestate.models import Unit
from portal.reports.registry import REPORTS
from tests.factories import give_unit, make_development, make_user

PAYLOADS = ["=2+3 Comprador", "+SUM(A1)", "-1+1", "@cmd", "\t=1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet reads as a plain number, never a formula: a negative amount ("-1.234,56") or an
# E.164 phone ("+5511987654321") — data, left as it is.
PLAIN_NUMBER = re.compile(r"[+-]\d[\d.,]*")


def unescaped_formulas(cells):
    return [c for c in cells if c.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(c)]


def cells_of(body: bytes) -> list[str]:
    assert body.startswith(b"\xef\xbb\xbf"), "every CSV is UTF-8 with a BOM, for Excel in pt-BR"
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";")
            for cell in row]


@pytest.fixture
def hostile(app):
    """Five developments, buyers and leads whose text fields hold the payloads, as a form, an import or
    the API could have stored them (written straight to the rows, so no input cleaning hides them)."""
    ensure_defaults()
    db.session.commit()
    admin = make_user("admin", name="Ana Admin")
    for i, payload in enumerate(PAYLOADS):
        dev = make_development(f"Residencial {i}", slug=f"residencial-{i}", units_per_tower=1)
        buyer = make_user("customer", name=f"Comprador {i}", email=f"comprador{i}@exemplo.com.br")
        give_unit(buyer, db.session.execute(select(Unit).where(Unit.development_id == dev.id)).scalar_one())
        lead = intake({"name": f"Cliente {i}", "email": f"cliente{i}@exemplo.com.br",
                       "phone": f"+551198760{i:04d}", "channel": "site", "development": dev.slug}).lead
        dev.name = dev.city = dev.towers[0].name = buyer.name = lead.name = payload
        db.session.commit()
    return admin


def _urls(app):
    """(endpoint, url) for every GET route but static files, with each any() choice and id 1."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        combos = [{}]
        for name in rule.arguments:
            converter = rule._converters[name]
            if isinstance(converter, AnyConverter):
                values = sorted(converter.items)
            else:
                values = [1 if isinstance(converter, IntegerConverter) else "x"]
            combos = [{**c, name: v} for c in combos for v in values]
        for values in combos:
            yield rule, rule.build(values, append_unknown=False)[1]


def csv_responses(app, client):
    found, broken = {}, []
    for rule, url in _urls(app):
        try:
            r = client.get(url)
        except Exception as exc:  # noqa: BLE001 - pages are other suites' business; only CSVs matter here
            if rule.rule.endswith(".csv"):
                broken.append(f"{url}: {exc!r}")
            continue
        if r.mimetype == "text/csv":
            found[url] = (rule.endpoint, r)
    assert not broken, broken
    return found


def test_every_csv_endpoint_escapes_formula_cells(app, client, login_as, hostile, run_jobs):
    login_as(hostile)
    # A finished report run first, so the walk also meets the report download (run 1).
    assert client.post("/relatorios/accounts.users", data={"format": "csv"}).status_code == 303
    run_jobs()
    found = csv_responses(app, client)

    endpoints = {endpoint for endpoint, _ in found.values()}
    csv_rules = {r.endpoint for r in app.url_map.iter_rules() if r.rule.endswith(".csv")}
    assert csv_rules <= endpoints, f"routes named .csv the walk could not reach: {csv_rules - endpoints}"
    assert {"personalize.buyers_export", "presales.leads_export", "reports.download"} <= endpoints
    for url, (endpoint, r) in found.items():
        assert r.headers["Cache-Control"] == "no-store", url
        cells = cells_of(r.data)
        assert unescaped_formulas(cells) == [], url
        if endpoint in ("personalize.buyers_export", "presales.leads_export", "reports.download"):
            assert {"'" + p for p in PAYLOADS} <= set(cells), url  # the hostile rows were really exported
    print(f"\n{len(found)} CSV endpoints x {len(PAYLOADS)} payloads")


def test_every_report_csv_from_the_report_job_escapes_formula_cells(client, login_as, hostile, run_jobs):
    login_as(hostile)
    keys = sorted(k for k, report in REPORTS.items() if "csv" in report.formats)
    runs = {}
    for key in keys:
        r = client.post(f"/relatorios/{key}", data={"format": "csv"})
        assert r.status_code == 303, (key, r.get_data(as_text=True)[:500])
        runs[key] = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    run_jobs()
    for key, run_id in runs.items():
        r = client.get(f"/relatorios/execucoes/{run_id}/arquivo")
        assert r.status_code == 200 and r.mimetype == "text/csv", key
        cells = cells_of(r.data)
        assert unescaped_formulas(cells) == [], key
        if key in ("accounts.users", "realestate.units"):  # buyer names; development names and cities
            assert {"'" + p for p in PAYLOADS} <= set(cells), key
    print(f"\n{len(keys)} report CSVs x {len(PAYLOADS)} payloads")


def test_numbers_and_signed_amounts_stay_numbers():
    from portal.web.csv_export import to_bytes

    cells = cells_of(to_bytes(["a", "b", "c", "d", "e"], [[-5, "-1.234,56", "+5511987654321", "-5 reais", "=1"]]))
    assert cells[5:] == ["-5", "-1.234,56", "+5511987654321", "'-5 reais", "'=1"]
