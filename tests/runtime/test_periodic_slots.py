"""Periodic slots are claimed in the database: Redis losing its data (restart without persistence,
FLUSHALL) never runs a slot twice, two workers ticking at once enqueue each slot once, and a slot whose
enqueue failed (Redis unreachable) is claimed again once Redis answers."""
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
import redis
from sqlalchemy import select, text

from portal import jobs
from portal.extensions import db
from portal.periodic_runs import PeriodicRun, claim
from tests.conftest import USING_POSTGRES

NOW = datetime(2026, 12, 7, 15, 0, 30, tzinfo=timezone.utc)
SWEEP = "portal.automation.jobs.sweep"  # every minute


def enqueued() -> list[str]:
    return sorted(job_id for name in jobs.QUEUES for job_id in jobs.queue(name).job_ids)


def test_redis_losing_its_data_does_not_run_the_slot_again(app):
    first = jobs.schedule_tick(NOW)
    assert sorted(first) == sorted(jobs.PERIODIC)
    assert len(enqueued()) == len(jobs.PERIODIC)

    jobs.get_redis().flushall()  # a Redis restarted without persistence
    assert jobs.schedule_tick(NOW) == []
    assert jobs.schedule_tick(NOW + timedelta(seconds=20)) == []  # same minute, same slot
    assert enqueued() == []

    later = jobs.schedule_tick(NOW + timedelta(minutes=1))
    assert SWEEP in later and "portal.cs.jobs.nightly_health" not in later
    assert f"periodic-portal_automation_jobs_sweep-{int(datetime(2026, 12, 7, 15, 1, tzinfo=timezone.utc).timestamp())}" \
        in enqueued()
    db.session.expire_all()
    assert db.session.get(PeriodicRun, SWEEP).last_slot == datetime(2026, 12, 7, 15, 1, tzinfo=timezone.utc)


def test_two_workers_ticking_at_once_enqueue_each_slot_once(app):
    start = threading.Barrier(2)
    results, errors = [], []

    def worker_tick():
        with app.app_context():  # its own session, as in another worker process
            try:
                start.wait(timeout=10)
                results.append(jobs.schedule_tick(NOW))
            except Exception as exc:  # reported below, not swallowed
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker_tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(results) == 2
    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(jobs.PERIODIC)  # every job once, split between the two
    assert len(enqueued()) == len(jobs.PERIODIC)


@pytest.mark.skipif(not USING_POSTGRES, reason="waiting on a row lock is observable in pg_locks only on PostgreSQL")
def test_a_second_claim_waits_for_the_first_and_loses(app):
    slot = NOW.replace(second=0)
    db.session.add(PeriodicRun(name=SWEEP, last_slot=slot - timedelta(minutes=1)))
    db.session.commit()
    assert claim(SWEEP, slot) is True  # not committed yet: the row stays locked
    outcome = []

    def other_worker():
        with app.app_context():
            try:
                outcome.append(claim(SWEEP, slot))
                db.session.commit()
            finally:
                db.session.remove()

    t = threading.Thread(target=other_worker)
    t.start()
    with app.app_context():  # a third session watches the second one queue behind our lock
        deadline = datetime.now() + timedelta(seconds=10)
        while not db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")):
            assert datetime.now() < deadline, "the second claim never waited for the first"
            db.session.rollback()
        db.session.remove()
    assert outcome == []
    db.session.commit()
    t.join(timeout=10)
    assert outcome == [False]
    assert db.session.scalar(select(PeriodicRun.last_slot).where(PeriodicRun.name == SWEEP)) == slot


def test_a_slot_whose_enqueue_failed_is_claimed_again_when_redis_answers(app, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on: connection refused, as with Redis stopped
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{dead_port}/0")
    with pytest.raises(redis.ConnectionError):
        jobs.schedule_tick(NOW)
    assert db.session.scalars(select(PeriodicRun)).all() == []  # the claim went back with the rollback

    monkeypatch.undo()
    assert sorted(jobs.schedule_tick(NOW)) == sorted(jobs.PERIODIC)
    assert len(enqueued()) == len(jobs.PERIODIC)
