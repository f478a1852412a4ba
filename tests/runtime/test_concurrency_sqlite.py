"""The embedded default under modest load: a real web process and a real worker on one SQLite file take
16 clients posting leads at once with no 500 ("database is locked") and no lost or doubled lead."""
import pytest

from bench import load
from portal import jobs
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.sequences import Counter
from tests.conftest import USING_POSTGRES
from tests.runtime.concurrency_scenario import (assert_leads_deduplicated_and_fair, assert_processed_promptly,
                                                intake_setup, log_path, notify_owner_on_intake_events, post_all,
                                                wait_until_every_event_is_processed)

pytestmark = pytest.mark.skipif(USING_POSTGRES, reason="measures the SQLite default; PostgreSQL has its own "
                                                       "load test (test_concurrency_events)")
__all__ = ["intake_setup"]  # the fixture, imported for pytest


def test_sixteen_clients_on_sqlite_with_a_worker_writing_get_no_500(app, intake_setup):
    notify_owner_on_intake_events()
    with load.workers(app, jobs.get_redis(), log_path(app, "worker")), \
            load.web(app, log_path(app, "web.log"), PUBLIC_RATE_LIMIT="100000 per minute",
                     API_CLIENT_RATE_LIMIT="100000 per minute") as port:
        started = utcnow()
        statuses = post_all(port, intake_setup["token"], intake_setup["slug"], clients=16)
        # the worker's own writes wait their turn too: a "database is locked" there would push the event
        # to the job's first retry, 30 s later
        events = wait_until_every_event_is_processed(60)
    assert_leads_deduplicated_and_fair(statuses, intake_setup["brokers"])
    assert_processed_promptly([e for e in events if e.created_at >= started], 20, f"answers: {statuses}")


def test_a_savepoint_opened_before_any_write_is_undone_by_the_rollback(app):
    """SQLite commits the whole transaction when its outermost savepoint is released: a savepoint that
    opened the transaction (notify() early in a request) made its rows stick despite the rollback."""
    with db.session.begin_nested():
        db.session.add(Counter(name="savepoint-probe", value=1))
    db.session.rollback()
    assert db.session.get(Counter, "savepoint-probe") is None
