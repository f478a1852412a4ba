"""`portal worker`: an RQ worker on high/default/low with RQ's scheduler and our periodic tick."""
import ctypes
import os
import signal
import sys
import threading

from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from portal import jobs
from portal.extensions import db


class PortalWorker(SimpleWorker):
    """Runs each job inside a fresh app context and cleans the DB session after it.

    SimpleWorker (no fork) keeps one DB pool per process; the timer death penalty works
    outside the main thread too (tests and `portal run` may run it in a thread).
    """
    death_penalty_class = TimerDeathPenalty
    flask_app = None

    def subscribe(self):
        # As rq's, with 1 s reads instead of 60 s: redis-py 8's PubSubWorkerThread.stop() joins the
        # thread without a timeout, so every stop waited out the 60 s read (rq 3.0 + redis-py 8.2).
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


def make_worker(app, queues=jobs.QUEUES, name=None) -> PortalWorker:
    with app.app_context():
        qs = [jobs.queue(q) for q in queues]
        # A pool of its own, with no connection open yet: rq raises the socket timeout of the pool it is
        # given above its blocking dequeue, which reaches only connections opened after that. A connection
        # the ticker had already opened keeps redis-py 8's 5 s default, and an idle BLPOP on it failed as
        # "could not connect to Redis: Timeout reading" with rq backing off up to 60 s.
        conn = jobs.connect(app)
    worker = PortalWorker(qs, connection=conn, name=name)
    worker.flask_app = app
    return worker


def scheduler_loop(app, stop: threading.Event) -> None:
    while not stop.is_set():
        with app.app_context():
            try:
                jobs.schedule_tick()
            except Exception:  # a Redis hiccup must not kill the loop; logged and retried next tick
                app.logger.exception("periodic tick failed")
        stop.wait(app.config["SCHEDULER_TICK_SECONDS"])


_PR_SET_PDEATHSIG = 1


def _in_forked_scheduler(app, parent_pid: int) -> None:
    """rq forks its scheduler from the worker. The child must not keep the worker's database connections
    (killed with -9, the worker's open transaction stayed open on PostgreSQL through the child's copy of
    the socket) and must not outlive the worker (it also held the embedded Redis up)."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # SQLAlchemy's recipe for forked children: forget, don't close
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the worker died before the line above took effect
        os._exit(0)


def run(app, burst: bool = False) -> None:
    parent_pid = os.getpid()
    os.register_at_fork(after_in_child=lambda: _in_forked_scheduler(app, parent_pid))
    stop = threading.Event()
    ticker = threading.Thread(target=scheduler_loop, args=(app, stop), daemon=True, name="portal-periodic")
    ticker.start()
    try:
        make_worker(app).work(with_scheduler=True, burst=burst, logging_level="INFO")
    finally:
        stop.set()
