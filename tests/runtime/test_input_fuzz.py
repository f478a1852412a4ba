"""Odd input anywhere an id or text arrives is a 4xx, never a 500: a crawl over the real URL map.

Logged in as the demo admin (who may open everything), every GET route with an `<int:...>` part is asked
for ids past INTEGER/BIGINT and written in other scripts' digits; every GET route gets the query-string
keys the views read, with the same odd values and with NUL; every form POST route gets every form field
name the code declares, with odd ids and with NUL text. Run on SQLite and on PostgreSQL (psycopg refuses
NUL in text, SQLite's driver overflows past int8).
"""
import re
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm

from portal.extensions import db
from tests.conftest import login

ROOT_ADMIN = ("admin@demo.portal", "portal123")
# past int4, past int8, past both, Arabic-Indic one (int() reads it as 1), superscript two (isdigit() but
# int() raises), fullwidth one
ODD_IDS = ["2147483648", "9223372036854775808", "99999999999999999999", "١", "²", "１"]
ODD_TEXT = ["\x00", "Ana\x00Silva"]
SKIP_ENDPOINTS = ("static", "auth.logout", "web.healthz")


@pytest.fixture
def demo(app, client):
    from portal.web.demo import load_demo
    load_demo()
    db.session.commit()
    login(client, *ROOT_ADMIN)
    with client.session_transaction() as session:
        client.admin_session = dict(session)
    return client


def _as_admin(client):
    """Back to the admin's session without the rate-limited login (a post may end the session)."""
    with client.session_transaction() as session:
        session.clear()
        session.update(client.admin_session)


def _routes(app, method):
    for rule in app.url_map.iter_rules():
        if method in rule.methods and rule.endpoint not in SKIP_ENDPOINTS and "logout" not in rule.rule:
            yield rule


def _path(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(r"<(?:[^:>]+:)?%s>" % name, quote(str(values.get(name, "1")), safe=""), path)
    return path


def _int_args(rule):
    return [name for name, conv in rule._converters.items() if conv.regex in (r"[0-9]+", r"\d+")]


def _fill(rule) -> dict:
    """A plausible value for each non-id part (the demo development's slug; ids default to 1)."""
    return {name: "jardim-das-acacias" for name in rule.arguments if name not in _int_args(rule)}


def _query_keys():
    """Every key the views read from the query string, found in the source (the crawl follows the code)."""
    from pathlib import Path
    import portal
    keys = set()
    for source in Path(portal.__file__).parent.rglob("*.py"):
        keys |= set(re.findall(r'args\.get(?:list)?\("([a-z_]+)"', source.read_text()))
        keys |= set(re.findall(r'args\["([a-z_]+)"\]', source.read_text()))
    return sorted(keys)


def _form_keys():
    """Every field name of every WTForms class and every key views read from request.form by hand."""
    from pathlib import Path
    import portal

    keys = set()
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        keys |= {name for name in dir(cls) if hasattr(getattr(cls, name, None), "field_class")}
    for source in Path(portal.__file__).parent.rglob("*.py"):
        keys |= set(re.findall(r'request\.(?:form|values)(?:\.get|\.getlist)?[\(\[]"([a-z_0-9-]+)"',
                               source.read_text()))
    return sorted(keys)


def _status(call) -> int | str:
    """The answer's status; an exception the app let escape (TESTING propagates them) is its name."""
    try:
        return call().status_code
    except Exception as exc:  # noqa: BLE001 - a crawl reports every failure, not the first
        db.session.rollback()
        return f"{type(exc).__name__}: {str(exc)[:120]}"


def _fails(status) -> bool:
    return not isinstance(status, int) or status >= 500


def test_every_id_route_answers_404_for_odd_ids(app, demo):
    failures = []
    for rule in _routes(app, "GET"):
        for name in _int_args(rule):
            for odd in ODD_IDS:
                path = _path(rule, {**_fill(rule), name: odd})
                status = _status(lambda: demo.get(path))
                if status != 404:
                    failures.append((path, status))
    assert not failures, "\n".join(map(str, failures))


def test_query_string_ids_and_nul_never_500(app, demo):
    keys = _query_keys()
    assert {"empreendimento", "csm", "page", "torre"} <= set(keys)
    failures = []
    for rule in _routes(app, "GET"):
        path = _path(rule, _fill(rule))
        for odd in [*ODD_IDS, "-1"]:
            status = _status(lambda: demo.get(path + "?" + "&".join(f"{k}={quote(odd)}" for k in keys)))
            if _fails(status):
                failures.append((path, odd, status))
        status = _status(lambda: demo.get(path + "?" + "&".join(f"{k}=%00" for k in keys)))
        if status != 400:
            failures.append((path, "NUL", status))
    assert not failures, "\n".join(map(str, failures))


def test_form_posts_with_odd_ids_and_nul_never_500(app, demo):
    keys = _form_keys()
    assert {"name", "email", "phone", "development", "csm_id", "slot_id"} <= set(keys)
    failures = []
    for rule in _routes(app, "POST"):
        if rule.rule.startswith("/api/"):
            continue  # JSON: test_input_api.py
        path = _path(rule, _fill(rule))
        for odd in [*ODD_IDS, *ODD_TEXT]:
            _as_admin(demo)
            status = _status(lambda: demo.post(path, data={k: odd for k in keys}))
            expected_nul = "\x00" in odd and status != 422
            if _fails(status) or expected_nul:
                failures.append((path, repr(odd), status))
            db.session.rollback()
    assert not failures, "\n".join(map(str, failures))


def test_json_api_fields_with_odd_values_never_500(app, demo, monkeypatch):
    import json

    from portal.accounts import apiclients
    from portal.presales.api import LEAD_FIELDS

    monkeypatch.setitem(app.config, "API_CLIENT_RATE_LIMIT", "10000 per minute")  # the crawl is not a flood
    _, token, _ = apiclients.create_client("Fuzz", scopes=["leads:write", "webhooks:rdstation"])
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = {"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "phone": "11 98765-4321"}
    odd_json = [json.dumps(v) for v in [*ODD_IDS, *ODD_TEXT]] + ['"\\ud800"', '"a\\udfffb"']
    failures = []
    for field in LEAD_FIELDS:
        for value in odd_json:
            if field == "extra":
                value = '{"k": %s}' % value
            raw = json.dumps(base)[:-1] + ', "%s": %s}' % (field, value)
            status = _status(lambda: demo.post("/api/v1/leads", data=raw, content_type="application/json",
                                               headers=headers))
            if status not in (200, 201, 422):
                failures.append(("/api/v1/leads", field, value, status))
            rd = '{"leads": [%s, {"name": "Bom Contato", "email": "bom@exemplo.com.br"}]}' % raw
            status = _status(lambda: demo.post("/api/v1/webhooks/rdstation", data=rd,
                                               content_type="application/json", headers=headers))
            if status != 200:
                failures.append(("rdstation", field, value, status))
            db.session.rollback()
    assert not failures, "\n".join(map(str, failures))
