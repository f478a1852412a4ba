"""The service worker never touches the session and a deploy reaches browsers that installed it; the OpenAPI
document covers every /api/v1 route and its examples work on the demo data."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from flask import url_for
from sqlalchemy import select

from portal.extensions import db
from portal.accounts import apiclients
from portal.presales.models import Lead
from portal.presales.openapi import document
from portal.presales.services.handoff import sign
from portal.web.views import serve_static_from, static_version
from tests.factories import make_user

STATIC = Path(__file__).resolve().parents[2] / "portal" / "static"


def static_copy(tmp_path) -> Path:
    target = tmp_path / "static"
    shutil.copytree(STATIC, target)
    return target


# ---- the session is not the service worker's business ----------------------------------------------------

def fetch(opener, url, data=None):
    """(status, headers, body) without following redirects."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None)
    try:
        with opener.open(request, timeout=20) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_background_fetches_answer_without_set_cookie(demo_server):
    """A browser holding a remember-me cookie and no session: loading the user would write a session. The
    worker fetches these in the background; a Set-Cookie there can overwrite the cookie of a login that
    happens meanwhile. Real HTTP against `portal run` (CSRF on, as in production)."""
    server, _ = demo_server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    _, _, page = fetch(opener, server.url + "/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    status, _, _ = fetch(opener, server.url + "/login", {"csrf_token": csrf, "email": "admin@demo.portal",
                                                        "password": "portal123", "remember": "y"})
    assert status == 302 and {c.name for c in jar} >= {"session", "remember_token"}
    _, _, offline = fetch(urllib.request.build_opener(), server.url + "/offline")  # no cookies at all
    asset = re.search(r'href="(/static/css/app.css[^"]*)"', offline).group(1)
    for path in ("/offline", "/sw.js", "/static/css/app.css", asset, "/inicio"):
        for cookie in [c for c in jar if c.name == "session"]:  # each request: remember-me, no session
            jar.clear(cookie.domain, cookie.path, cookie.name)
        status, headers, _ = fetch(opener, server.url + path)
        assert status == 200, path
        if path == "/inicio":  # the same cookies do log a real page in, and that page writes the session
            assert headers.get_all("Set-Cookie"), path
        else:
            assert headers.get_all("Set-Cookie") is None, (path, headers.get_all("Set-Cookie"))


def test_the_lead_example_is_accepted_by_a_real_portal_run(demo_server):
    server, token = demo_server
    example = document()["components"]["schemas"]["LeadIn"]["example"]
    request = urllib.request.Request(server.url + "/api/v1/leads", data=json.dumps(example).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=20) as r:
        assert r.status == 201 and json.loads(r.read())["status"] == "created"


# ---- a deploy changes the cache and the asset URLs ------------------------------------------------------------

def test_the_served_worker_names_a_cache_that_follows_the_static_files(app, client, tmp_path):
    static = static_copy(tmp_path)
    original = app.static_folder
    versions = []
    try:
        for change in ("", "\nbody { color: red; }\n"):  # as built, then after a deploy that changed app.css
            css = static / "css" / "app.css"
            css.write_text(css.read_text() + change)
            version = serve_static_from(app, str(static))  # what start-up does
            assert version == static_version(str(static))
            sw = client.get("/sw.js")
            assert sw.headers["Cache-Control"] == "no-cache" and sw.mimetype == "application/javascript"
            source = sw.get_data(as_text=True)
            assert f'const VERSION = "{version}";' in source and "__STATIC_VERSION__" not in source
            with app.test_request_context():
                assert url_for("static", filename="css/app.css") == f"/static/css/app.css?v={version}"
            assert f'href="/static/css/app.css?v={version}"' in client.get("/offline").get_data(as_text=True)
            assert client.get(f"/static/css/app.css?v={version}").get_data(as_text=True) == css.read_text()
            versions.append(version)
    finally:
        serve_static_from(app, original)
    assert versions[0] != versions[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortalRun:
    """`portal run` as a real process on its own SQLite and embedded Redis, serving a static folder we control."""

    def __init__(self, tmp_path, static_dir=None):
        self.port = free_port()
        self.env = {**os.environ, "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/portal.db", "REDIS_URL": "",
                    "PORTAL_STATIC_DIR": str(static_dir or ""), "PYTHONUNBUFFERED": "1"}
        self.cli("db", "upgrade")
        self.proc = None

    def cli(self, *args) -> str:
        """A `portal` command on the same instance (while the server runs, it attaches to its embedded Redis)."""
        return subprocess.run([sys.executable, "-m", "portal.cli", *args], env=self.env, check=True,
                              capture_output=True, text=True, timeout=300).stdout

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "portal.cli", "run", "--port", str(self.port),
                                      "--no-worker"], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)  # polling a real condition (the port answers), with a deadline
        raise AssertionError("portal run did not answer /healthz in 60 s")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`portal run` with the demo data and an API token, as `make run` leaves it."""
    server = PortalRun(tmp_path_factory.mktemp("portal-run"))
    server.start()
    try:
        server.cli("demo")
        token = server.cli("api-token", "create", "Parceiro de exemplo", "--scope", "leads:write").strip().splitlines()[-1]
        yield server, token
    finally:
        server.stop()


# ---- OpenAPI ------------------------------------------------------------------------------------------------

def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_v1_route_is_documented_with_its_methods(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            routes.setdefault(openapi_path(rule.rule), set()).update(m.lower() for m in rule.methods
                                                                      if m not in ("HEAD", "OPTIONS"))
    assert {"/api/v1/cs/usage", "/api/v1/webhooks/sales-status"} <= set(routes)
    assert {path: set(item) for path, item in doc["paths"].items()} == routes
    schemes = set(doc["components"]["securitySchemes"])
    for item in doc["paths"].values():
        for op in item.values():
            assert all(set(requirement) <= schemes for requirement in op.get("security", doc["security"]))


@pytest.fixture
def demo(app):
    from portal.web.demo import load_demo
    load_demo()
    db.session.commit()


def api_post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def test_the_examples_are_accepted_on_the_demo_data(app, client, demo):
    _, token, _ = apiclients.create_client("Parceiro de exemplo", scopes=sorted(apiclients.SCOPES))
    db.session.commit()
    schemas = document()["components"]["schemas"]
    bearer = {"Authorization": f"Bearer {token}"}

    r = api_post(client, "/api/v1/leads", schemas["LeadIn"]["example"], **bearer)
    assert r.status_code == 201, r.get_json()
    lead = db.session.execute(select(Lead).where(Lead.number == r.get_json()["number"])).scalar_one()
    assert lead.development.slug == schemas["LeadIn"]["example"]["development"]

    r = api_post(client, "/api/v1/webhooks/rdstation", schemas["RDStationPayload"]["example"], **bearer)
    assert r.status_code == 200 and r.get_json()["created"] == 1, r.get_json()

    example = schemas["SalesStatusIn"]["example"]
    raw, ts = json.dumps(example).encode(), str(int(time.time()))
    app.config["SALES_CRM_SECRET"] = "segredo-crm"
    try:
        r = client.post("/api/v1/webhooks/sales-status", data=raw, content_type="application/json",
                        headers={"X-Portal-Timestamp": ts, "X-Portal-Signature": sign("segredo-crm", ts, raw)})
    finally:
        app.config["SALES_CRM_SECRET"] = ""
    assert r.status_code == 200 and r.get_json() == {"status": "updated", "number": example["number"]}

    from portal.cs.services.accounts import create_account
    usage = schemas["UsageIn"]["example"]
    create_account({"name": "Conta do exemplo", "cnpj": usage["rows"][0]["cnpj"], "employees": 10, "mrr": "1.000,00",
                    "contact_points": 1})
    db.session.commit()
    day = datetime.fromisoformat(usage["rows"][0]["day"]).replace(hour=18, tzinfo=timezone.utc)
    with time_machine.travel(day, tick=False):  # the example's day is "today", not a day that ages out
        r = api_post(client, "/api/v1/cs/usage", usage, **bearer)
    assert r.status_code == 200 and r.get_json() == schemas["UsageResult"]["example"], r.get_json()
