"""The lead API, the RD Station webhook, API client tokens and the OpenAPI document, through HTTP."""
import hashlib
import io
import json

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.automation.models import Event
from portal.accounts import apiclients
from portal.accounts.apiclients import ApiClient
from portal.extensions import db
from portal.presales.api import MAX_BODY
from portal.presales.models import Lead, LeadContactKey, Narrative
from portal.presales.openapi import document
from tests.factories import make_development, make_user


LEAD_SCOPES = ["leads:write", "webhooks:rdstation"]


@pytest.fixture
def rd_client(sales):
    """A client with both pre-sales scopes: (bearer token, secret webhook path)."""
    _, plaintext, secret = apiclients.create_client("Site institucional", scopes=LEAD_SCOPES)
    db.session.commit()
    return plaintext, f"/api/v1/webhooks/rdstation/{secret}"


@pytest.fixture
def token(rd_client):
    return rd_client[0]


@pytest.fixture
def rd_path(rd_client):
    return rd_client[1]


def body(**over):
    return {"name": "Fernanda Rocha", "email": "Fernanda@Exemplo.com.br", "phone": "+55 (11) 98765-4321",
            "development": "jardim-europa", "media": "google", "message": "Quero visitar",
            "extra": {"utm_campaign": "lancamento"}, **over}


def post(client, data, token=None, path="/api/v1/leads", **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    return client.post(path, data=data, headers=headers, content_type=kw.pop("content_type", "application/json"),
                       **kw)


def counts():
    """What intake writes: leads, narratives, contact keys, lead events (fixtures publish other events)."""
    db.session.expire_all()
    found = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
             for model in (Lead, Narrative, LeadContactKey)}
    found["Event"] = db.session.scalar(select(func.count(Event.id)).where(Event.type.like("lead.%")))
    return found


NOTHING = {"Lead": 0, "Narrative": 0, "LeadContactKey": 0, "Event": 0}


# --- POST /api/v1/leads ------------------------------------------------------------------------------

def test_good_token_creates_a_lead_and_names_its_owner(client, sales, token):
    r = post(client, body(), token)
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"number": "L-000001", "status": "created", "owner": "Bruna Corretora"}
    lead = db.session.execute(select(Lead)).scalar_one()
    assert (lead.email, lead.phone, lead.channel.slug, lead.media.slug) == (
        "fernanda@exemplo.com.br", "+5511987654321", "api", "google")
    assert lead.development_id == sales["dev"].id and lead.owner_id == sales["south_broker"].id
    assert lead.extra == {"utm_campaign": "lancamento", "api_client": "Site institucional"}
    assert db.session.execute(select(ApiClient)).scalar_one().last_used_at is not None


def test_duplicate_answers_200_with_the_existing_number_and_writes_a_reentry(client, sales, token):
    first = post(client, body(), token).get_json()["number"]
    r = post(client, body(name="Fernanda R.", email=None, phone="11987654321", media="instagram"), token)
    assert r.status_code == 200
    assert r.get_json() == {"number": first, "status": "duplicate"}
    assert counts()["Lead"] == 1
    reentry = db.session.execute(select(Narrative).where(Narrative.kind == "reentry")).scalar_one()
    assert reentry.channel.slug == "api" and reentry.media.slug == "instagram"


@pytest.mark.parametrize("headers, reason", [
    ({}, "ausente"),
    ({"Authorization": "Bearer pk_naoexiste"}, "inválido"),
    ({"Authorization": "Bearer "}, "ausente"),
    ({"Authorization": "Basic dXNlcjpzZW5oYQ=="}, "ausente"),
    ({"Authorization": "Bearer not-even-our-format"}, "inválido"),
])
def test_missing_or_invalid_token_is_401_and_writes_nothing(client, sales, token, headers, reason):
    r = post(client, body(), headers=headers)
    assert r.status_code == 401
    assert reason in r.get_json()["message"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts() == NOTHING


def test_token_in_the_query_string_is_not_accepted_for_leads(client, sales, token):
    r = post(client, body(), path=f"/api/v1/leads?token={token}")
    assert r.status_code == 400 and "cabeçalho Authorization" in r.get_json()["message"] and counts() == NOTHING


def test_revoked_token_is_401(client, sales, token):
    apiclients.revoke(apiclients.lookup(token))
    db.session.commit()
    r = post(client, body(), token)
    assert r.status_code == 401 and "revogado" in r.get_json()["message"]
    assert counts() == NOTHING


@pytest.mark.parametrize("raw", [b'{"name": "Fernanda", ', b"", b"\xff\xfe{", b'{"name": NaN}', b"[" * 50000])
def test_malformed_json_is_400_and_writes_nothing(client, sales, token, raw):
    r = post(client, raw, token)
    assert r.status_code == 400
    assert r.get_json()["message"].startswith("JSON malformado")
    assert counts() == NOTHING


@pytest.mark.parametrize("payload", [[body()], "Fernanda", 42, None])
def test_body_that_is_not_an_object_is_400(client, sales, token, payload):
    r = post(client, json.dumps(payload), token)
    assert r.status_code == 400 and "objeto" in r.get_json()["message"]
    assert counts() == NOTHING


def test_body_over_64_kb_is_413_by_content_length(client, sales, token):
    big = json.dumps(body(message="x" * MAX_BODY))
    r = post(client, big, token)
    assert r.status_code == 413 and "64 KB" in r.get_json()["message"]
    assert counts() == NOTHING


def test_body_over_64_kb_is_413_by_actual_size_without_content_length(client, sales, token):
    big = json.dumps(body(extra={"blob": "x" * MAX_BODY})).encode()
    r = client.post("/api/v1/leads", input_stream=io.BytesIO(big), content_type="application/json",
                    headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
                    environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413
    assert counts() == NOTHING


def test_body_just_under_the_limit_is_accepted(client, sales, token):
    data = body(extra={})
    data["extra"]["pad"] = "x" * (MAX_BODY - len(json.dumps(data)) - 20)
    raw = json.dumps(data)
    assert MAX_BODY - 100 < len(raw) <= MAX_BODY
    assert post(client, raw, token).status_code == 201


def test_not_json_is_415(client, sales, token):
    r = post(client, "name=Fernanda&email=f%40exemplo.com.br", token, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert counts() == NOTHING


@pytest.mark.parametrize("over, field", [
    ({"email": None, "phone": None}, "contact"),
    ({"email": "fernanda@", "phone": None}, "email"),
    ({"phone": "1234"}, "phone"),
    ({"development": "nao-existe"}, "development"),
    ({"name": "  "}, "name"),
    ({"name": 123}, "name"),
    ({"channel": "fax"}, "channel"),
    ({"media": "radio-pirata"}, "media"),
    ({"extra": ["a"]}, "extra"),
    ({"cpf": "123"}, "cpf"),
    ({"message": "x" * 5001}, "message"),
])
def test_bad_input_is_422_with_the_field_and_writes_nothing(client, sales, token, over, field):
    r = post(client, body(**over), token)
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert field in errors and errors[field]
    assert counts() == NOTHING


def test_several_bad_fields_are_reported_together(client, sales, token):
    r = post(client, body(email="x@", phone="12", development="nao-existe"), token)
    assert set(r.get_json()["errors"]) >= {"email", "phone", "development"}


def test_rate_limit_is_per_token(app, client, sales, token, monkeypatch):
    monkeypatch.setitem(app.config, "API_CLIENT_RATE_LIMIT", "2 per minute")
    _, other, _ = apiclients.create_client("Portal imobiliário", scopes=["leads:write"])
    db.session.commit()
    assert post(client, body(), token).status_code == 201
    assert post(client, body(phone="11987650002", email=None), token).status_code == 201
    r = post(client, body(phone="11987650003", email=None), token)
    assert r.status_code == 429 and "Muitas tentativas" in r.get_json()["error"]
    assert post(client, body(phone="11987650004", email=None), other).status_code == 201  # own bucket
    assert counts()["Lead"] == 3


# --- tokens --------------------------------------------------------------------------------------------

def test_token_is_stored_hashed_and_never_in_plaintext(app, sales):
    client, token, secret = apiclients.create_client("RD Station", scopes=LEAD_SCOPES)
    db.session.commit()
    assert token.startswith("pk_") and len(token) > 40 and secret.startswith("whk_")
    row = db.session.execute(select(ApiClient)).scalar_one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(row.token_prefix) and len(row.token_prefix) < 12
    stored = json.dumps([[str(getattr(r, c.key)) for c in type(r).__table__.columns]
                         for r in db.session.execute(select(ApiClient)).scalars()]
                        + [[a.action, json.dumps(a.details)] for a in db.session.execute(select(AuditLog)).scalars()])
    assert token not in stored and token[len(row.token_prefix):] not in stored
    assert secret not in stored and secret[len(row.webhook_secret_prefix):] not in stored
    assert row.webhook_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert apiclients.authenticate(token).id == client.id
    assert apiclients.authenticate(token + "x") is None and apiclients.authenticate(None) is None


def test_client_names_are_unique_and_required(sales):
    apiclients.create_client("Site", scopes=["leads:write"])
    with pytest.raises(Exception) as err:
        apiclients.create_client(" Site ", scopes=["leads:write"])
    assert "Já existe" in str(err.value)
    with pytest.raises(Exception):
        apiclients.create_client("   ", scopes=["leads:write"])


def test_cli_creates_lists_and_revokes_tokens(app, client, sales):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "Landing pages", "--scope", "leads:write"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert post(client, body(), token).status_code == 201
    assert "Landing pages" in runner.invoke(args=["api-token", "list"]).output
    assert runner.invoke(args=["api-token", "create", "Landing pages", "--scope", "leads:write"]).exit_code != 0
    assert runner.invoke(args=["api-token", "revoke", "Landing pages"]).exit_code == 0
    assert post(client, body(phone="11987650009", email=None), token).status_code == 401


def test_admin_creates_sees_the_token_once_and_revokes(client, sales, login_as):
    login_as(sales["admin"])
    assert client.get("/pre-vendas/config/api-clients").status_code == 200
    r = client.post("/pre-vendas/config/api-clients", data={"name": "Site institucional", "scopes": ["leads:write"]})
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    page = r.get_data(as_text=True)
    token = page.split('id="token"')[1].split('value="')[1].split('"')[0]
    assert token.startswith("pk_") and apiclients.authenticate(token) is not None
    listing = client.get("/pre-vendas/config/api-clients").get_data(as_text=True)
    assert "Site institucional" in listing and token not in listing
    assert client.post("/pre-vendas/config/api-clients", data={"name": "Site institucional",
                                                                "scopes": ["leads:write"]}).status_code == 422
    row = db.session.execute(select(ApiClient)).scalar_one()
    r = client.post(f"/pre-vendas/config/api-clients/{row.id}/revogar", follow_redirects=True)
    assert "revogado" in r.get_data(as_text=True)
    assert post(client, body(), token).status_code == 401
    actions = set(db.session.execute(select(AuditLog.action)).scalars())
    assert {"api_client.created", "api_client.revoked"} <= actions


@pytest.mark.parametrize("role", ["manager", "sdr", "broker"])
def test_api_client_screen_is_admin_only(client, sales, login_as, role):
    login_as(make_user(role))
    assert client.get("/pre-vendas/config/api-clients").status_code == 403
    assert client.post("/pre-vendas/config/api-clients", data={"name": "X"}).status_code == 403
    assert counts()["Lead"] == 0 and db.session.scalar(select(func.count(ApiClient.id))) == 0


# --- RD Station webhook ---------------------------------------------------------------------------------

def rd_lead(name, email, phone=None, identifier=None, source=None, **extra):
    lead = {"id": "1", "name": name, "email": email, "personal_phone": phone, "lead_stage": "Lead",
            "tags": ["lancamento"], "created_at": "2025-03-01T10:00:00-03:00", "custom_fields": {}, **extra}
    if identifier or source:
        lead["last_conversion"] = {"content": {"identificador": identifier, "email_lead": email},
                                   "created_at": "2025-03-01T10:00:00-03:00", "source": source,
                                   "conversion_origin": {"source": source, "medium": "cpc", "campaign": "x"}}
    return lead


def test_rdstation_payload_creates_leads_with_media_mapped(client, sales, rd_path):
    payload = {"leads": [
        rd_lead("Ricardo Nunes", "ricardo@exemplo.com.br", "(11) 98765-0002", "jardim-europa", "Instagram"),
        rd_lead("Juliana Prado", "juliana@exemplo.com.br", None, "lp-jardim-europa-2025", "Busca Paga | Google"),
        rd_lead("Tiago Moreira", "tiago@exemplo.com.br", "11 98765-0004", "newsletter", "TikTok"),
        {"name": "Sem contato", "email": "", "personal_phone": ""},
        rd_lead("Ricardo N.", "RICARDO@exemplo.com.br", identifier="jardim-europa"),
        "not an object",
    ]}
    r = post(client, payload, path=rd_path)
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert (answer["received"], answer["created"], answer["duplicate"], answer["invalid"]) == (6, 3, 1, 2)
    statuses = [x["status"] for x in answer["results"]]
    assert statuses == ["created", "created", "created", "invalid", "duplicate", "invalid"]
    assert answer["results"][3]["errors"] == {"contact": "Informe e-mail ou telefone."}
    assert answer["results"][4]["number"] == answer["results"][0]["number"]
    leads = {lead.email: lead for lead in db.session.execute(select(Lead)).scalars()}
    assert {e: (lead.channel.slug, lead.media.slug) for e, lead in leads.items()} == {
        "ricardo@exemplo.com.br": ("rdstation", "instagram"),
        "juliana@exemplo.com.br": ("rdstation", "google"),
        "tiago@exemplo.com.br": ("rdstation", "outros")}
    assert leads["ricardo@exemplo.com.br"].development_id == sales["dev"].id
    assert leads["juliana@exemplo.com.br"].development_id == sales["dev"].id  # identifier contains the slug
    assert leads["tiago@exemplo.com.br"].development_id is None
    assert leads["ricardo@exemplo.com.br"].phone == "+5511987650002"
    assert leads["ricardo@exemplo.com.br"].stage.is_sdr  # RD Station leads go to the SDR first
    rd = leads["tiago@exemplo.com.br"].extra["rdstation"]
    assert rd["conversion_identifier"] == "newsletter" and rd["traffic_source"] == "TikTok"


def test_rdstation_accepts_bearer_header_and_a_default_development(client, sales, token):
    payload = {"leads": [{"email": "sem.nome@exemplo.com.br", "mobile_phone": "+55 11 98765-0007",
                          "traffic_source": "facebook", "conversion_identifier": "ebook-financiamento"}]}
    r = post(client, payload, token, path="/api/v1/webhooks/rdstation?development=jardim-europa")
    assert r.status_code == 200 and r.get_json()["created"] == 1
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.name == "sem.nome@exemplo.com.br"  # RD conversions often carry no name
    assert (lead.media.slug, lead.development_id, lead.phone) == ("facebook", sales["dev"].id, "+5511987650007")


def test_rdstation_invalid_phone_is_dropped_with_a_warning_when_there_is_an_email(client, sales, token):
    payload = {"leads": [rd_lead("Camila Duarte", "camila@exemplo.com.br", "123")]}
    r = post(client, payload, token, path="/api/v1/webhooks/rdstation")
    result = r.get_json()["results"][0]
    assert result["status"] == "created" and "phone" in result["warnings"]
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.phone is None and lead.extra["rdstation"]["invalid_phone"] == "123"


@pytest.mark.parametrize("payload", [{}, {"leads": []}, {"leads": {"email": "a@b.com"}}])
def test_rdstation_without_leads_is_422(client, sales, token, payload):
    r = post(client, payload, token, path="/api/v1/webhooks/rdstation")
    assert r.status_code == 422 and "leads" in r.get_json()["errors"]
    assert counts() == NOTHING


def test_rdstation_needs_a_valid_token_or_secret_path(client, sales, rd_path):
    payload = {"leads": [rd_lead("Ricardo Nunes", "ricardo@exemplo.com.br")]}
    assert post(client, payload, path="/api/v1/webhooks/rdstation").status_code == 401
    assert post(client, payload, path="/api/v1/webhooks/rdstation?token=pk_errado").status_code == 400
    assert post(client, payload, path=rd_path + "x").status_code == 404
    assert post(client, payload, path="/api/v1/webhooks/rdstation/pk_errado").status_code == 404
    assert counts() == NOTHING


# --- OpenAPI --------------------------------------------------------------------------------------------

def _resolve(doc, schema):
    ref = schema.get("$ref")
    if ref:
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node
    return schema


def _validate(doc, schema, value, where="$"):
    """Just enough of OpenAPI 3.0 schema validation for these documents (type, enum, required,
    properties, additionalProperties, anyOf, nullable, maxLength, pattern, items)."""
    import re
    schema = _resolve(doc, schema)
    if value is None:
        assert schema.get("nullable") or "type" not in schema, f"{where}: null"
        return
    kind = schema.get("type")
    types = {"object": dict, "string": str, "integer": int, "array": list, "boolean": bool}
    if kind:
        assert isinstance(value, types[kind]), f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "string":
        assert len(value) <= schema.get("maxLength", len(value)), where
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if kind == "object":
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), f"{where}: extra keys {set(value) - set(props)}"
        for key, sub in props.items():
            if key in value:
                _validate(doc, sub, value[key], f"{where}.{key}")
        if "anyOf" in schema:
            assert any(all(k in value for k in alt.get("required", [])) for alt in schema["anyOf"]), where
    if kind == "array":
        for i, item in enumerate(value):
            _validate(doc, schema.get("items", {}), item, f"{where}[{i}]")


def test_openapi_document_is_structurally_valid(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.is_json
    doc = r.get_json()
    assert doc["openapi"].startswith("3.0.") and doc["info"]["title"] and doc["info"]["version"]
    bearer = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert bearer["x-scopes"] == ["cs:usage:write", "leads:write", "webhooks:rdstation"]
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    for ref in refs:  # every $ref resolves
        assert _resolve(doc, {"$ref": ref}), ref
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for method, op in item.items():
            assert method in {"get", "post"} and op["operationId"] and op["responses"]
            for code, response in op["responses"].items():
                assert code.isdigit() and response["description"], (path, code)
                for media in response.get("content", {}).values():
                    assert "schema" in media
            for requirement in op.get("security", doc["security"]):
                assert set(requirement) <= set(doc["components"]["securitySchemes"])
    for name, schema in doc["components"]["schemas"].items():  # examples match their own schemas
        if "example" in schema:
            _validate(doc, schema, schema["example"], name)
    # every /api/v1 route of the app is documented (tests/runtime/test_web_sw_openapi.py checks the methods too)
    routes = {rule.rule.replace("<", "{").replace(">", "}")
              for rule in client.application.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert routes == set(doc["paths"])


def demo_development():
    """The example names a development `portal demo` creates (the fixtures' own is another)."""
    make_development("Residencial Jardim das Acácias", slug="jardim-das-acacias")
    db.session.commit()


def test_openapi_matches_what_the_api_enforces(app, client, sales, token):
    demo_development()
    doc = document()
    schemas = doc["components"]["schemas"]
    lead_in = schemas["LeadIn"]
    assert lead_in["required"] == ["name"] and lead_in["additionalProperties"] is False
    from portal.presales.api import LEAD_FIELDS
    assert set(lead_in["properties"]) == set(LEAD_FIELDS)
    # The example, as given, is accepted and answered as documented.
    r = post(client, lead_in["example"], token)
    assert r.status_code == 201
    _validate(doc, schemas["LeadCreated"], r.get_json())
    r = post(client, lead_in["example"], token)
    assert r.status_code == 200
    _validate(doc, schemas["LeadDuplicate"], r.get_json())
    # Each schema constraint is one the API enforces.
    example = lead_in["example"]
    without_contact = {k: v for k, v in example.items() if k not in ("email", "phone")}
    assert post(client, without_contact, token).status_code == 422
    assert post(client, {k: v for k, v in example.items() if k != "name"}, token).status_code == 422
    assert post(client, {**example, "surprise": 1}, token).status_code == 422
    limit = lead_in["properties"]["message"]["maxLength"]
    assert post(client, {**example, "phone": "11987650077", "email": None,
                         "message": "x" * (limit + 1)}, token).status_code == 422


def other_scope_token():
    _, token, _ = apiclients.create_client("Só RD Station", scopes=["webhooks:rdstation"])
    db.session.commit()
    return token


def test_every_documented_lead_status_code_is_what_the_api_answers(app, client, sales, token, monkeypatch):
    demo_development()
    doc = document()
    example = doc["components"]["schemas"]["LeadIn"]["example"]
    produce = {
        "201": lambda: post(client, example, token),
        "200": lambda: post(client, example, token),
        "400": lambda: post(client, b"{", token),
        "401": lambda: post(client, example),
        "403": lambda: post(client, example, other_scope_token()),
        "413": lambda: post(client, {**example, "message": "x" * MAX_BODY}, token),
        "415": lambda: post(client, "x", token, content_type="text/plain"),
        "422": lambda: post(client, {**example, "email": "nope"}, token),
        "429": lambda: [post(client, example, token) for _ in range(3)][-1],
    }
    assert set(produce) == set(doc["paths"]["/api/v1/leads"]["post"]["responses"])
    for code, request in produce.items():
        if code == "429":
            monkeypatch.setitem(app.config, "API_CLIENT_RATE_LIMIT", "1 per minute")
        r = request()
        assert str(r.status_code) == code, (code, r.get_json())
        response_doc = doc["paths"]["/api/v1/leads"]["post"]["responses"][code]
        _validate(doc, response_doc["content"]["application/json"]["schema"], r.get_json(), code)
