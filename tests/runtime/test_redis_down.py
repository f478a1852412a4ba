"""Redis stopped for real does not stop the business: logins, the lead API, the public form, the manual
lead form and notes on a lead answer success and write once; their events and deliveries wait in the
database and the outbox sweep hands them to the worker once Redis is back. Error pages render with Redis
down or a session broken mid-COMMIT; a 405 keeps its Allow header."""
import json
import logging
import os
import re
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import redis
from flask_login import current_user
from sqlalchemy import event, func, select

from portal import create_app, jobs
from portal.automation import engine
from portal.automation.models import Delivery, Event
from portal.dbtypes import utcnow
from portal.extensions import db, limiter
from portal.accounts import apiclients
from portal.presales.models import Lead, Narrative
from tests.conftest import _free_port
from tests.presales.conftest import funnel, sales  # noqa: F401  (fixtures)
from worker import make_worker

PASSWORD = "segredo123"


class RedisServer:
    """A redis-server process of our own, without persistence, that a test can stop and start again."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        probe = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                assert self.proc.poll() is None, "redis-server exited"
        probe.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_server():
    if not os.path.exists("/usr/bin/redis-server"):
        pytest.skip("needs Debian's redis-server at /usr/bin/redis-server")
    server = RedisServer()
    server.start()
    yield server
    if server.proc is not None:
        server.stop()


@pytest.fixture
def outage_app(app, redis_server):
    """A second app on the session's database whose jobs and rate limits live in `redis_server`.

    Flask-Limiter keeps its storage on the one module-level `limiter`, so it is put back afterwards."""
    saved = dict(vars(limiter))
    second = create_app({
        "TESTING": True, "PROPAGATE_EXCEPTIONS": False,  # a failure answers 500 (and the error page) as in production
        "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url, "RATELIMIT_ENABLED": True, "JOB_RETRY_INTERVALS": [0, 0, 0],
        "OUTBOX_DIR": app.config["OUTBOX_DIR"], "PORTAL_BASE_URL": "http://localhost",
    })

    @second.route("/_test/redis")
    def touches_redis():
        jobs.get_redis().ping()
        return "pong"

    @second.route("/_test/commit-hook-fails")
    def commit_hook_fails():
        def refuse(session):
            raise ConnectionError("a commit hook could not reach its server")
        assert current_user.is_authenticated  # loaded now, expired by the COMMIT below
        event.listen(db.session(), "after_commit", refuse, once=True)
        db.session.commit()
        return "not reached"

    yield second
    vars(limiter).update(saved)
    with second.app_context():
        db.engine.dispose()
        jobs.get_redis().close()
        if "portal_redis_enqueue" in second.extensions:
            second.extensions["portal_redis_enqueue"][1].close()


def login(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def unprocessed(event_type):
    db.session.expire_all()
    return db.session.scalars(select(Event).where(Event.type == event_type, Event.processed_at.is_(None))).all()


def recover(outage_app, redis_server):
    """Redis is back: the sweep (run a few minutes later) re-queues what was stranded, a worker runs it."""
    redis_server.start()
    with outage_app.app_context():
        found = engine.requeue_stranded(utcnow() + timedelta(minutes=6))
        queued = sorted(job_id for name in jobs.QUEUES for job_id in jobs.queue(name).job_ids)
        make_worker(outage_app).work(burst=True, logging_level="WARNING")
        db.session.remove()
    db.session.expire_all()
    return found, queued


def test_login_and_the_rate_limit_with_redis_stopped(outage_app, redis_server, sales, caplog, time_machine,
                                                     monkeypatch):
    # Frozen inside one limit window, ahead of the clock the limiter last read (it backs off on that clock).
    window = datetime.now(timezone.utc).replace(second=5, microsecond=0) + timedelta(minutes=1)
    time_machine.move_to(window, tick=False)
    # Alembic's fileConfig (the session's `flask db upgrade`) disabled every logger that existed then.
    monkeypatch.setattr(limiter.logger, "disabled", False)
    redis_server.stop()
    client = outage_app.test_client()
    caplog.set_level(logging.WARNING)

    response = login(client, sales["south_broker"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Rate limit storage unreachable" in caplog.text
    # The limits still hold, counted in this process's memory until Redis answers again (10 failures per minute
    # per account; the successful login above does not count).
    other = outage_app.test_client()
    statuses = [other.post("/login", data={"email": sales["sdr"].email, "password": "errada"}).status_code
                for _ in range(11)]
    assert statuses == [422] * 10 + [429]

    redis_server.start()  # the store is checked again with a backoff, then used again
    time_machine.move_to(window + timedelta(minutes=1), tick=False)
    assert other.post("/login", data={"email": sales["sdr"].email, "password": "errada"}).status_code == 422
    assert redis.Redis(port=redis_server.port).keys("LIMITS*")


def test_api_lead_with_redis_stopped_is_created_once_and_its_event_runs_when_redis_is_back(
        outage_app, redis_server, sales):
    _, token, _ = apiclients.create_client("Site institucional", scopes=["leads:write"])
    db.session.commit()
    redis_server.stop()
    response = outage_app.test_client().post(
        "/api/v1/leads", headers={"Authorization": f"Bearer {token}"}, content_type="application/json",
        data=json.dumps({"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "development": "jardim-europa"}))

    assert response.status_code == 201, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Lead.id))) == 1
    [created] = unprocessed("lead.created")

    found, queued = recover(outage_app, redis_server)
    assert found["events"] >= 1 and f"event-{created.id}" in queued
    assert db.session.get(Event, created.id).processed_at is not None


def test_a_hung_redis_holds_a_request_for_seconds_not_a_minute(outage_app, redis_server, sales):
    _, token, _ = apiclients.create_client("Site institucional", scopes=["leads:write"])
    db.session.commit()
    redis_server.proc.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        started = time.monotonic()
        response = outage_app.test_client().post(
            "/api/v1/leads", headers={"Authorization": f"Bearer {token}"}, content_type="application/json",
            data=json.dumps({"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br",
                             "development": "jardim-europa"}))
        took = time.monotonic() - started
    finally:
        redis_server.proc.send_signal(signal.SIGCONT)
    assert response.status_code == 201
    # 1 s for the rate limit's store, then 2 s per job enqueued after COMMIT (redis-py's defaults: 5 s per
    # job on a hung server, ~58 s on one whose packets are dropped).
    assert took < 8, f"the request waited {took:.1f} s on Redis"
    assert db.session.scalar(select(func.count(Lead.id))) == 1


def test_public_form_with_redis_stopped_thanks_the_visitor(outage_app, redis_server, sales):
    client = outage_app.test_client()
    page = client.get("/f/jardim-europa").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    redis_server.stop()
    response = client.post("/f/jardim-europa", data={
        "csrf_token": token, "name": "Joana Prado", "email": "joana.prado@exemplo.com.br", "phone": "",
        "message": "Quero visitar", "consent": "y", "website": ""})

    assert response.status_code == 302 and response.headers["Location"].endswith("/f/jardim-europa/obrigado")
    lead = db.session.scalars(select(Lead)).one()
    assert lead.email == "joana.prado@exemplo.com.br"
    assert [e.subject_id for e in unprocessed("lead.created")] == [lead.id]


def test_manual_lead_and_a_note_with_redis_stopped_are_saved_once(outage_app, redis_server, sales):
    client = outage_app.test_client()
    redis_server.stop()
    assert login(client, sales["south_broker"]).status_code == 302

    response = client.post("/pre-vendas/leads/novo", data={
        "name": "Marina Souza", "email": "marina.souza@exemplo.com.br", "phone": "", "development": "jardim-europa",
        "media": "", "message": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    lead = db.session.scalars(select(Lead)).one()
    assert response.headers["Location"] == f"/pre-vendas/leads/{lead.id}"
    assert client.get(response.headers["Location"]).status_code == 200  # the flash and the page render too

    response = client.post(f"/pre-vendas/leads/{lead.id}/narrativas", data={"kind": "note", "body": "Ligar amanhã"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#historico")
    notes = db.session.scalars(select(Narrative).where(Narrative.lead_id == lead.id, Narrative.kind == "note")).all()
    assert [n.body for n in notes] == ["Ligar amanhã"]
    [noted] = unprocessed("lead.noted")

    found, queued = recover(outage_app, redis_server)
    assert f"event-{noted.id}" in queued
    assert db.session.get(Event, noted.id).processed_at is not None


def test_password_reset_with_redis_stopped_is_sent_when_redis_is_back(outage_app, redis_server, sales):
    redis_server.stop()
    response = outage_app.test_client().post("/senha/esqueci", data={"email": sales["sdr"].email})
    assert response.status_code in (200, 302)
    delivery = db.session.scalars(select(Delivery)).one()
    assert delivery.status == "queued"

    found, queued = recover(outage_app, redis_server)
    assert found["deliveries"] == 1 and f"delivery-{delivery.id}" in queued
    assert db.session.get(Delivery, delivery.id).status == "sent"


def test_error_pages_render_with_redis_stopped(outage_app, redis_server, sales):
    client = outage_app.test_client()
    redis_server.stop()
    assert login(client, sales["south_broker"]).status_code == 302

    missing = client.get("/nao-existe")
    assert missing.status_code == 404 and "Página não encontrada" in missing.get_data(as_text=True)
    failed = client.get("/_test/redis")  # anything in a request that needs Redis and finds it down
    page = failed.get_data(as_text=True)
    assert failed.status_code == 500 and "Erro interno" in page and "Bruna Corretora" in page  # the full layout


def test_error_page_renders_after_a_commit_hook_broke_the_session(outage_app, sales):
    client = outage_app.test_client()
    assert login(client, sales["south_broker"]).status_code == 302
    response = client.get("/_test/commit-hook-fails")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Erro interno" in page and "Bruna Corretora" in page


def test_a_plain_error_page_answers_when_the_layout_cannot_render(outage_app, sales, monkeypatch):
    client = outage_app.test_client()
    assert login(client, sales["south_broker"]).status_code == 302

    def database_gone(user):
        raise ConnectionError("the database went away")
    monkeypatch.setattr("portal.web.setup.navigation", database_gone)
    response = client.get("/_test/commit-hook-fails")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Erro interno" in page and "Voltar ao início" in page
    assert "Bruna Corretora" not in page  # no layout, no user


def test_405_keeps_the_allow_header(client):
    response = client.get("/logout")  # POST only
    assert response.status_code == 405 and "Método não permitido" in response.get_data(as_text=True)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed and "GET" not in allowed
    api = client.get("/api/v1/leads")
    assert api.status_code == 405 and api.get_json()["error"] == "Método não permitido" and "POST" in api.headers["Allow"]
