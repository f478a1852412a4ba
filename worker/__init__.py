"""`portal worker`: an RQ worker on high/default/low with RQ's scheduler and our periodic tick."""
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

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


def make_worker(app, queues=jobs.QUEUES, name=None) -> PortalWorker:
    with app.app_context():
        conn = jobs.get_redis()
        qs = [jobs.queue(q) for q in queues]
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


def run(app, burst: bool = False) -> None:
    stop = threading.Event()
    ticker = threading.Thread(target=scheduler_loop, args=(app, stop), daemon=True, name="portal-periodic")
    ticker.start()
    try:
        make_worker(app).work(with_scheduler=True, burst=burst, logging_level="INFO")
    finally:
        stop.set()
