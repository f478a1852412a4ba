import logging

from flask import current_app, has_app_context
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData

# Named constraints so Alembic batch mode (SQLite) can alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Redis down must not stop logins and lead forms: limits fall back to per-process memory (logged),
# and the store is re-checked with backoff. Short timeouts and no retries keep a dead or hung Redis
# from holding a request for redis-py's default 5 s x 10 retries.
limiter = Limiter(key_func=get_remote_address, swallow_errors=True, in_memory_fallback_enabled=True,
                  storage_options={"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 0)})


class _ToAppLogger(logging.Handler):
    """Flask-Limiter reports the outage on its own logger, which has only a NullHandler: its records go to
    the app's logger, where the app's own errors are written."""

    def emit(self, record):
        if has_app_context():
            current_app.logger.handle(record)


limiter.logger.addHandler(_ToAppLogger())
limiter.logger.propagate = False  # once, through the app's logger
babel = Babel()
htmx = Htmx()
