"""Portal: one Flask app for pre-sales, unit personalization and customer success."""
import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask

from portal.config import Config

BLUEPRINT_MODULES = [
    "portal.web.views",
    "portal.accounts.views",
    "portal.accounts.admin",
    "portal.realestate.views",
    "portal.automation.views",
    "portal.reports.views",
    "portal.presales.views",
    "portal.presales.admin",
    "portal.presales.api",
    "portal.presales.public",
    "portal.presales.webhooks",
    "portal.presales.dashboard",
    "portal.presales.work",
    "portal.personalize.views",
    "portal.personalize.web.esign_webhooks",
    "portal.cs.views",
    "portal.cs.api",
]
# Imported for their side effects: models, periodic jobs, event and report declarations.
MODULES = [
    "portal.accounts.models",
    "portal.realestate.models",
    "portal.automation.models",
    "portal.automation.jobs",
    "portal.accounts.rules",
    "portal.realestate.rules",
    "portal.sequences",
    "portal.presales.models",
    "portal.presales.rules",
    "portal.presales.jobs",
    "portal.presales.reports",
    "portal.personalize.models",
    "portal.personalize.esign.models",
    "portal.personalize.default_rules",
    "portal.personalize.esign.services",
    "portal.personalize.esign.zapsign",
    "portal.personalize.questions",
    "portal.personalize.surveys",
    "portal.personalize.link_requests",
    "portal.personalize.rules",
    "portal.personalize.reports",
    "portal.cs.models",
    "portal.cs.rules",
    "portal.reports.models",
    "portal.reports.catalog",
]


def _secret_key(instance_dir: str) -> str:
    """The generated key is born 0600 and published whole with a hard link: two processes starting
    together never read a half-written file and end up sharing one key."""
    path = Path(instance_dir) / "secret_key"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=instance_dir, prefix=".secret_key.")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def _serialize_sqlite_writes(app) -> None:
    """The embedded SQLite default allows one writer: requests that write take turns in-process.

    SQLite itself makes a writer wait (the busy timeout) but by polling, not in order: without turns,
    16 clients posting 1,000 leads got the same throughput, yet a request could lose every poll for the
    whole timeout and fail with "database is locked" (`bench/intake_api.py`). Across processes (the
    worker) the busy timeout decides. PostgreSQL, the production database, needs none of this."""
    import threading

    from flask import g, request

    lock = threading.RLock()
    safe = {"GET", "HEAD", "OPTIONS"}

    @app.before_request
    def _take_turn():
        if request.method not in safe:
            lock.acquire()
            g._sqlite_write_lock = True

    @app.teardown_request
    def _give_turn(_exc):
        if g.pop("_sqlite_write_lock", False):
            lock.release()


def _sqlite_write_transactions(engine) -> None:
    """Every SQLite connection (web and worker) runs in WAL mode, so readers go on while another process
    writes, and takes the write lock when its write transaction begins (BEGIN IMMEDIATE).

    The busy timeout (pysqlite's `timeout`, i.e. PRAGMA busy_timeout, 15 s: set on every connection
    below) only helps a transaction that asks for the lock up front: one that has read and
    then upgrades to write while another connection writes fails at once with "database is locked",
    and waiting cannot help it. pysqlite opens its own transaction only before INSERT/UPDATE/DELETE, so
    `isolation_level = "IMMEDIATE"` covers those; a SAVEPOINT (`begin_nested()`) opened before any
    write would start a deferred transaction, so one is begun IMMEDIATE first (this also keeps the
    savepoint's RELEASE from committing the whole transaction)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _wal_and_immediate(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.isolation_level = "IMMEDIATE"

    @event.listens_for(engine, "savepoint")
    def _savepoint_inside_a_write_transaction(conn, _name):
        driver = conn.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=Config.INSTANCE_DIR)  # templates/ beside this file
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    os.makedirs(app.config["INSTANCE_DIR"], exist_ok=True)
    app.instance_path = app.config["INSTANCE_DIR"]
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.config["INSTANCE_DIR"])

    from importlib import import_module

    from portal import jobs
    from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

    app.config.setdefault("RATELIMIT_STORAGE_URI", jobs.storage_uri(app))
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    if sqlite:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 15, **options.get("connect_args", {})}  # wait for the writer
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        _serialize_sqlite_writes(app)
    db.init_app(app)
    if sqlite:
        with app.app_context():
            _sqlite_write_transactions(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app)
    htmx.init_app(app)
    from portal.web import converters
    converters.init_app(app)  # before the blueprints: a rule takes its converter class when it is added

    for name in MODULES:
        import_module(name)
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(name).bp)

    from portal.accounts.cli import users_cli
    from portal.web import setup
    from portal.web.demo import demo_command

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_command)

    setup.init_app(app)
    return app
