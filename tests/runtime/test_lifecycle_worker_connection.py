"""An idle worker's blocking dequeue must outlast redis-py 8's 5 s default socket timeout, even when the process
had opened a connection before the worker was built (the periodic ticker does, in `portal worker`)."""
import time

import pytest
from rq.exceptions import DequeueTimeout

from portal import jobs


def test_idle_dequeue_outlives_default_socket_timeout_after_an_early_connection(app):
    from worker import make_worker

    with app.app_context():
        jobs.get_redis().ping()  # what the ticker does first: a connection opened with the 5 s default
    w = make_worker(app, queues=("high", "default"))
    t0 = time.monotonic()
    with pytest.raises(DequeueTimeout):  # the empty-queue outcome; "Timeout reading" is a TimeoutError
        w.queue_class.dequeue_any(w.queues, 7, connection=w.connection)
    assert time.monotonic() - t0 >= 6.5
