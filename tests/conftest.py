"""Test fixtures: one app per session on a fresh database (SQLite file or DATABASE_URL) and a real
Redis (embedded or REDIS_URL); every test starts from empty tables and an empty Redis db."""
import os
import shutil
import socket
import tempfile
import threading
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

_TMP = tempfile.mkdtemp(prefix="portal-test-")
os.environ["PORTAL_INSTANCE_DIR"] = os.path.join(_TMP, "instance")  # before portal.config is imported
os.environ.setdefault("SECRET_KEY", "test-secret")

from portal import create_app  # noqa: E402
from portal.extensions import db, limiter  # noqa: E402

USING_POSTGRES = (os.environ.get("DATABASE_URL") or "").startswith("postgresql")


def _refuse_real_stores() -> str | None:
    """Why this run would wipe a database or Redis db that is not a test one (the suite drops, truncates and
    FLUSHDBs what it is pointed at), or None."""
    from redis import ConnectionPool
    from sqlalchemy.engine import make_url

    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url:
        name = os.path.splitext(os.path.basename(make_url(database_url).database or ""))[0]
        if not name.endswith("_test"):
            return (f"DATABASE_URL names the database {name!r}: the suite drops and truncates its tables, so it "
                    "only runs on a database whose name ends in _test (e.g. portal_test)")
    if redis_url and ConnectionPool.from_url(redis_url).connection_kwargs.get("db", 0) in (0, "0"):
        return ("REDIS_URL points at Redis db 0: the suite FLUSHDBs it, so give it another db number "
                "(e.g. redis://127.0.0.1:6379/15)")
    return None


def pytest_configure(config):
    refusal = _refuse_real_stores()
    if refusal:
        pytest.exit(f"refusing to run the tests: {refusal}", returncode=4)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) a skipped browser test fails the run, with the skip's reason: a missing Chromium or
    Playwright must not pass unnoticed."""
    report = yield
    if (report.skipped and not hasattr(report, "wasxfail") and os.environ.get("CI") == "true"
            and item.get_closest_marker("browser")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"browser test skipped in CI (CI=true): {reason}"
    return report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app():
    instance = os.environ["PORTAL_INSTANCE_DIR"]
    os.makedirs(instance, exist_ok=True)
    config = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/test.db",
        "JOB_RETRY_INTERVALS": [0, 0, 0],
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # hashing cost is not what these tests measure
        "SERVER_NAME": None,
        "PORTAL_BASE_URL": "http://localhost",
    }
    application = create_app(config)
    with application.app_context():
        from flask_migrate import upgrade
        if USING_POSTGRES:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()  # the schema comes from the migrations, as in production
        from portal import jobs
        jobs.get_redis().flushdb()
    yield application
    from portal import jobs
    jobs.stop_embedded()
    shutil.rmtree(_TMP, ignore_errors=True)


def _truncate():
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if USING_POSTGRES:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for t in tables:
                conn.execute(t.delete())
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name='sqlite_sequence'").first() else None


@pytest.fixture(autouse=True)
def _clean(app):
    with app.app_context():
        from portal import jobs
        jobs.get_redis().flushdb()
        limiter.reset()
        outbox = app.config["OUTBOX_DIR"]
        shutil.rmtree(outbox, ignore_errors=True)
        yield
        db.session.remove()
        _truncate()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Run every queued job to completion in this process, like `portal worker --burst`."""
    from worker import make_worker

    def run(queues=("high", "default", "low")):
        db.session.commit()  # the worker has its own session: end ours so it sees everything
        w = make_worker(app, queues=queues)
        w.work(burst=True, logging_level="WARNING")
        db.session.expire_all()  # then read what the worker wrote
        return w
    return run


def login(client, email, password="segredo123"):
    response = client.post("/login", data={"email": email, "password": password}, follow_redirects=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client):
    def do(user, password="segredo123"):
        return login(client, user.email, password)
    return do


class SMTPRecorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.content, policy=email_policy)})
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on 127.0.0.1; the app is pointed at it for this test."""
    from aiosmtpd.controller import Controller

    handler = SMTPRecorder()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    yield handler
    app.config.update(old)
    controller.stop()


class HTTPRecorder:
    """A real local HTTP server recording JSON requests; `status` and `reply` set what it answers."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.statuses = []  # answered first, one per request, before falling back to `status`
        self.reply = {"id": "msg-1"}
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def http_server():
    import json

    recorder = HTTPRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                      "json": json.loads(body or b"{}")})
            payload = json.dumps(recorder.reply).encode()
            self.send_response(recorder.statuses.pop(0) if recorder.statuses else recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    recorder.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=recorder.server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()
