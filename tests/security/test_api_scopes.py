"""Issue 15 item 7: API tokens carry scopes checked per endpoint, each client has its own rate limit (keyed by
client, not IP), and RD Station reaches the portal through a rotatable secret path, never a token in a URL."""
import json
import logging
import re
import urllib.error
import urllib.request

import pytest
import time_machine
from sqlalchemy import func, select, text

from portal.accounts import apiclients
from portal.accounts.models import AuditLog
from portal.cs.models import UsageMetric
from portal.extensions import db
from portal.presales.models import Lead
from tests.cs.conftest import make_account
from tests.presales.conftest import funnel, sales  # noqa: F401 - fixtures shared with the presales tests

ALL_SCOPES = ["cs:usage:write", "leads:write", "webhooks:rdstation"]
RD_PAYLOAD = {"leads": [{"name": "Helena Castro", "email": "helena.castro@exemplo.com.br",
                         "conversion_identifier": "jardim-europa", "traffic_source": "Instagram"}]}


def new_client(name, scopes, **kw):
    client, token, secret = apiclients.create_client(name, scopes=scopes, **kw)
    db.session.commit()
    return client, token, secret


def post(client, path, payload, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, data=json.dumps(payload), content_type="application/json", headers=headers)


def lead(i):
    return {"name": f"Contato {i}", "email": f"contato{i}@exemplo.com.br", "development": "jardim-europa"}


def leads_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Lead.id)))


# --- scopes ------------------------------------------------------------------------------------------------

def test_a_lead_intake_token_cannot_write_cs_usage_and_the_403_names_the_scope(client, sales):
    account = make_account()
    _, lead_token, _ = new_client("Site institucional", ["leads:write"])
    _, usage_token, _ = new_client("Produto (telemetria)", ["cs:usage:write"])
    rows = {"rows": [{"cnpj": account.cnpj, "day": "2026-03-15", "feature": "relatorio", "count": 3}]}
    with time_machine.travel("2026-03-16 10:00", tick=False):
        refused = post(client, "/api/v1/cs/usage", rows, lead_token)
        assert refused.status_code == 403, refused.get_json()
        assert refused.get_json()["scope"] == "cs:usage:write" and "cs:usage:write" in refused.get_json()["message"]
        assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
        assert db.session.scalar(select(func.count(UsageMetric.id))) == 0
        assert post(client, "/api/v1/cs/usage", rows, usage_token).status_code == 200
    # and the other way round: a telemetry token posts no lead, nor an RD Station batch
    r = post(client, "/api/v1/leads", lead(1), usage_token)
    assert r.status_code == 403 and r.get_json()["scope"] == "leads:write"
    r = post(client, "/api/v1/webhooks/rdstation", RD_PAYLOAD, lead_token)
    assert r.status_code == 403 and r.get_json()["scope"] == "webhooks:rdstation"
    assert leads_count() == 0
    assert post(client, "/api/v1/leads", lead(1), lead_token).status_code == 201


def test_scopes_are_chosen_at_creation_in_the_admin_page_and_listed(client, sales, login_as):
    login_as(sales["admin"])
    page = client.get("/pre-vendas/config/api-clients").get_data(as_text=True)
    assert set(re.findall(r'name="scopes" value="([^"]+)"', page)) == set(ALL_SCOPES)
    r = client.post("/pre-vendas/config/api-clients", data={"name": "Sem escopo"})
    assert r.status_code == 422 and "Escolha ao menos um escopo" in r.get_data(as_text=True)
    r = client.post("/pre-vendas/config/api-clients", data={"name": "Inventado", "scopes": ["admin:all"]})
    assert r.status_code == 422 and "Escopo desconhecido" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(apiclients.ApiClient.id))) == 0
    r = client.post("/pre-vendas/config/api-clients", data={"name": "Telemetria", "scopes": ["cs:usage:write"],
                                                            "rate_limit": "1200 per minute"})
    assert r.status_code == 201 and 'id="webhook-url"' not in r.get_data(as_text=True)
    listing = client.get("/pre-vendas/config/api-clients").get_data(as_text=True)
    row = listing.split("Telemetria</td>")[1].split("</tr>")[0]
    assert "cs:usage:write" in row and "leads:write" not in row and "1200 per minute" in row
    assert client.post("/pre-vendas/config/api-clients",
                       data={"name": "Limite torto", "scopes": ["leads:write"], "rate_limit": "muito"}).status_code == 422


def test_cli_takes_scopes_and_refuses_a_token_without_one(app, client, sales):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["api-token", "create", "Sem escopo"]).exit_code != 0
    assert runner.invoke(args=["api-token", "create", "Errado", "--scope", "tudo"]).exit_code != 0
    result = runner.invoke(args=["api-token", "create", "RD", "--scope", "webhooks:rdstation", "--scope", "leads:write"])
    assert result.exit_code == 0, result.output
    url = re.search(r"(https?://\S+/api/v1/webhooks/rdstation/whk_\S+)", result.output).group(1)
    token = result.output.strip().splitlines()[-1]
    assert post(client, "/api/v1/leads", lead(1), token).status_code == 201
    assert post(client, "/" + url.split("://", 1)[1].partition("/")[2], RD_PAYLOAD).status_code == 200
    assert "leads:write webhooks:rdstation" in runner.invoke(args=["api-token", "list"]).output
    new_url = runner.invoke(args=["api-token", "rotate-webhook", "RD"]).output.strip()
    assert new_url != url and "/rdstation/whk_" in new_url


def test_existing_clients_keep_every_scope_after_the_upgrade(tmp_path):
    """The migration on a SQLite file (batch mode): a client made before scopes can still do all it could."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/upgrade.db"})
    with other.app_context():
        upgrade(revision="s1a0sessions0001")
        db.session.execute(text("INSERT INTO api_clients (name, token_hash, token_prefix, active, created_at, "
                                "updated_at) VALUES ('Antigo', :h, 'pk_antigo', 1, '2026-01-01', '2026-01-01')"),
                           {"h": "0" * 64})
        db.session.commit()
        upgrade(revision="t1a0apiscopes001")
        row = db.session.execute(text("SELECT scopes, rate_limit, webhook_secret_hash FROM api_clients")).one()
        assert sorted(row.scopes.split()) == ALL_SCOPES and row.rate_limit is None and row.webhook_secret_hash is None
        downgrade(revision="s1a0sessions0001")
        columns = [c[1] for c in db.session.execute(text("PRAGMA table_info(api_clients)"))]
        assert "scopes" not in columns and "Antigo" == db.session.scalar(text("SELECT name FROM api_clients"))
        db.session.remove()
        db.engine.dispose()


def test_openapi_names_the_scope_of_each_operation(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    scopes = {path: op.get("x-scopes") for path, item in doc["paths"].items() for op in item.values()}
    assert scopes["/api/v1/leads"] == ["leads:write"]
    assert scopes["/api/v1/cs/usage"] == ["cs:usage:write"]
    assert scopes["/api/v1/webhooks/rdstation/{secret}"] == ["webhooks:rdstation"]
    assert doc["paths"]["/api/v1/webhooks/rdstation/{secret}"]["post"]["security"] == []
    assert doc["components"]["securitySchemes"]["bearerAuth"]["x-scopes"] == ALL_SCOPES
    assert "queryToken" not in doc["components"]["securitySchemes"]
    assert "403" in doc["paths"]["/api/v1/leads"]["post"]["responses"]


# --- per-client rate limit ---------------------------------------------------------------------------------

def test_an_integration_posting_200_leads_in_a_minute_is_not_cut_at_the_public_limit(app, client, sales):
    assert app.config["RATELIMIT_ENABLED"] and app.config["PUBLIC_RATE_LIMIT"] == "30 per minute"
    _, token, _ = new_client("Portal imobiliário", ["leads:write"])
    with time_machine.travel("2026-03-16 10:00", tick=False):
        statuses = [post(client, "/api/v1/leads", lead(i), token).status_code for i in range(200)]
    assert statuses == [201] * 200
    assert leads_count() == 200


def test_over_its_own_limit_a_client_gets_429_with_retry_after_and_others_go_on(app, client, sales):
    _, slow, _ = new_client("Parceiro pequeno", ["leads:write", "webhooks:rdstation"], rate_limit="5 per minute")
    _, other, _ = new_client("Site institucional", ["leads:write"])
    with time_machine.travel("2026-03-16 10:00", tick=False):
        statuses = [post(client, "/api/v1/leads", lead(i), slow).status_code for i in range(5)]
        refused = post(client, "/api/v1/leads", lead(5), slow)
        # one budget per client, whatever the endpoint
        refused_rd = post(client, "/api/v1/webhooks/rdstation", RD_PAYLOAD, slow)
        # the same IP, another client: its own bucket
        fine = post(client, "/api/v1/leads", lead(6), other)
    assert statuses == [201] * 5
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused_rd.status_code == 429
    assert fine.status_code == 201
    assert leads_count() == 6


# --- no secrets in URLs ------------------------------------------------------------------------------------

def test_token_in_the_query_string_is_refused_with_the_way_to_the_secret_url(client, sales, caplog):
    _, token, _ = new_client("RD Station", ["webhooks:rdstation"])
    caplog.set_level(logging.INFO)
    r = post(client, f"/api/v1/webhooks/rdstation?token={token}", RD_PAYLOAD)
    assert r.status_code == 400
    assert "/api/v1/webhooks/rdstation/" in r.get_json()["message"] and "Authorization" in r.get_json()["message"]
    assert leads_count() == 0 and token not in caplog.text


def test_rotating_the_webhook_address_in_the_admin_page_kills_the_old_one_at_once(client, sales, login_as):
    login_as(sales["admin"])
    r = client.post("/pre-vendas/config/api-clients", data={"name": "RD Station", "scopes": ["webhooks:rdstation"]})
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    old = re.search(r'id="webhook-url"[^>]*value="http://[^/]+([^"]+)"', r.get_data(as_text=True)).group(1)
    assert old.startswith("/api/v1/webhooks/rdstation/whk_")
    assert post(client, old, RD_PAYLOAD).status_code == 200
    row = db.session.execute(select(apiclients.ApiClient)).scalar_one()
    listing = client.get("/pre-vendas/config/api-clients").get_data(as_text=True)
    assert row.webhook_secret_prefix in listing and old.rsplit("/", 1)[1] not in listing
    r = client.post(f"/pre-vendas/config/api-clients/{row.id}/webhook")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = re.search(r'id="webhook-url"[^>]*value="http://[^/]+([^"]+)"', r.get_data(as_text=True)).group(1)
    assert new != old
    gone = post(client, old, {"leads": [{"name": "Outra", "email": "outra@exemplo.com.br"}]})
    assert gone.status_code == 404 and leads_count() == 1
    assert post(client, new, {"leads": [{"name": "Outra", "email": "outra@exemplo.com.br"}]}).status_code == 200
    assert "api_client.webhook_rotated" in set(db.session.execute(select(AuditLog.action)).scalars())
    # a revoked client's address dies with its token
    client.post(f"/pre-vendas/config/api-clients/{row.id}/revogar")
    assert post(client, new, RD_PAYLOAD).status_code == 404


def test_the_secret_path_never_reaches_the_logs_in_full(app, sales, live_server, caplog):
    _, _, secret = new_client("RD Station", ["webhooks:rdstation"])
    caplog.set_level(logging.INFO)
    for path, body in ((f"/api/v1/webhooks/rdstation/{secret}", RD_PAYLOAD),
                       (f"/api/v1/webhooks/rdstation/{secret}x", RD_PAYLOAD),
                       (f"/api/v1/webhooks/rdstation?token={secret}", RD_PAYLOAD)):
        request = urllib.request.Request(live_server + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in (200, 400, 404)
    # what Flask logs when a view raises (app.logger.error("Exception on <path> [POST]"))
    app.logger.error("Exception on %s [%s]", f"/api/v1/webhooks/rdstation/{secret}", "POST")
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len([line for line in access if "/webhooks/rdstation" in line]) == 3, access
    assert secret[:10] in caplog.text  # enough to tell which client called
    assert secret not in caplog.text and secret[10:20] not in caplog.text
