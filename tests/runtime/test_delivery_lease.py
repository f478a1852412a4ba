"""A worker killed mid-send neither loses nor duplicates a message: the `sending` lease, the sweep that
recovers it, the "Estado incerto" state with its confirmed resend, retries shown with their time, and the
one extra attempt once a channel is healthy again. The kill tests run real worker processes."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from sqlalchemy import select

from portal.automation import engine
from portal.automation.deliveries import queue_delivery
from portal.automation.models import Delivery
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.factories import make_user


def wait_for(condition, worker, what, timeout=90.0):
    """Poll a real condition until it holds or the deadline passes (then show the worker's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    with open(worker.log_path, encoding="utf-8", errors="replace") as fh:
        raise AssertionError(f"timed out waiting for {what}; worker log:\n{fh.read()[-3000:]}")


def statuses(ids) -> dict:
    """Fresh read, and no transaction left open (SQLite: the worker process must be able to write)."""
    db.session.rollback()
    rows = dict(db.session.execute(select(Delivery.id, Delivery.status).where(Delivery.id.in_(ids))).all())
    db.session.rollback()
    return rows


def start_worker(app, log_path, **env):
    """`portal worker` as its own process on the test app's database, Redis and instance folder."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "PORTAL_INSTANCE_DIR": app.config["INSTANCE_DIR"], "JOB_RETRY_INTERVALS": "0,0,0", **env}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_path = log_path
    return proc


def kill(proc):
    """SIGKILL mid-send, for the worker and the RQ scheduler it forked (its own process group): an orphaned
    scheduler would keep the dead worker's database sockets, and so its last transaction, open."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # the stop itself is not what these tests measure
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (the scheduler child)
    except ProcessLookupError:
        pass
    proc.wait()


def email(n: int) -> Delivery:
    return queue_delivery(channel="email", recipient=f"comprador{n}@exemplo.com.br", recipient_name=f"Comprador {n}",
                          subject=f"Sua unidade {n}", body="Olá!", key=f"lease-test-{n}")


class HangFirstData:
    """SMTP handler: the first DATA blocks until `release`; later ones are accepted at once. A message
    counts as delivered only when the server answers 250 to a client still connected."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.seen = []  # (delivery id, Message-ID) of every DATA received, completed or not
        self.delivered = []  # the same for messages answered 250

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=email_policy)
        entry = (int(msg["X-Portal-Delivery"]), msg["Message-ID"])
        self.seen.append(entry)
        if len(self.seen) == 1:
            self.entered.set()
            # aiosmtpd cancels this coroutine when the client goes away
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            if server.transport is None or server.transport.is_closing():
                return "421 client gone"
        self.delivered.append(entry)
        return "250 OK"


@pytest.fixture
def hanging_smtp(app):
    from aiosmtpd.controller import Controller

    handler = HangFirstData()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        handler.port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    handler.release.set()
    controller.stop()


def test_worker_killed_inside_smtp_data_delivers_each_message_exactly_once(app, hanging_smtp, caplog, tmp_path):
    ids = [email(n).id for n in range(3)]
    db.session.commit()  # the three send jobs are enqueued now
    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(hanging_smtp.port), "MAIL_TIMEOUT": "300"}
    first = start_worker(app, tmp_path / "worker1.log", **env)
    try:
        wait_for(hanging_smtp.entered.is_set, first, "the worker inside the hanging DATA")
        (hung_id, hung_message_id), = hanging_smtp.seen
        assert statuses([hung_id])[hung_id] == "sending"
        kill(first)  # no except/finally runs in the worker
    finally:
        stop(first)
    hanging_smtp.release.set()
    assert hanging_smtp.delivered == []  # the cut session's message was never accepted

    lease = app.config["DELIVERY_LEASE_SECONDS"]
    killed_at = utcnow()
    with time_machine.travel(killed_at + timedelta(seconds=lease - 60), tick=False):
        assert engine.requeue_stranded()["leases"] == 0  # a live worker could still be sending
    assert statuses([hung_id])[hung_id] == "sending"
    with caplog.at_level("WARNING"), time_machine.travel(killed_at + timedelta(seconds=lease + 60), tick=False):
        recovered = engine.requeue_stranded()
    assert recovered["leases"] == 1 and recovered["deliveries"] == 2  # the other two never left the queue
    assert "sweep recovered events=0 deliveries=2 leases=1" in caplog.text
    assert statuses([hung_id])[hung_id] == "queued"

    second = start_worker(app, tmp_path / "worker2.log", **env)
    try:
        wait_for(lambda: set(statuses(ids).values()) == {"sent"}, second, "every delivery sent")
    finally:
        stop(second)
    delivered = Counter(delivery_id for delivery_id, _ in hanging_smtp.delivered)
    lost = sum(1 for i in ids if delivered[i] == 0)
    duplicated = sum(delivered[i] - 1 for i in ids if delivered[i] > 1)
    assert (lost, duplicated) == (0, 0)
    # the resend carried the Message-ID of the interrupted attempt, so a receiver can tell them apart
    assert [m for d, m in hanging_smtp.seen if d == hung_id] == [hung_message_id, hung_message_id]
    assert hung_message_id.startswith(f"<delivery-{hung_id}.")
    row = db.session.get(Delivery, hung_id)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)


@pytest.fixture
def hanging_http():
    """An SMS provider that holds the first request without answering (until `release`)."""
    state = {"requests": [], "entered": threading.Event(), "release": threading.Event()}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            import json
            state["requests"].append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            if len(state["requests"]) == 1:
                state["entered"].set()
                state["release"].wait()
            body = b'{"id": "sms-%d"}' % len(state["requests"])
            try:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client was killed

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}/sms"
    yield state
    state["release"].set()
    server.shutdown()
    server.server_close()


def test_killed_send_on_a_channel_not_declared_safe_is_uncertain_until_an_admin_confirms_the_resend(
        app, client, login_as, hanging_http, run_jobs, tmp_path):
    admin = make_user("admin")
    run_jobs()
    delivery = queue_delivery(channel="sms", recipient="+5511987654321", body="Sua vistoria é amanhã.", key="sms-1")
    db.session.commit()
    worker = start_worker(app, tmp_path / "worker.log", SMS_API_URL=hanging_http["url"], HTTP_TIMEOUT="300")
    try:
        wait_for(hanging_http["entered"].is_set, worker, "the worker inside the SMS request")
        kill(worker)
    finally:
        stop(worker)
    hanging_http["release"].set()

    app.config.update(SMS_API_URL=hanging_http["url"], DELIVERY_RESEND_SAFE_CHANNELS=["email", "webhook"])
    try:
        with time_machine.travel(utcnow() + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 60), tick=False):
            assert engine.requeue_stranded()["leases"] == 1
        db.session.expire_all()
        assert db.session.get(Delivery, delivery.id).status == "uncertain"
        run_jobs()
        assert len(hanging_http["requests"]) == 1  # nothing resends it on its own

        login_as(admin)
        listing = client.get("/automacao/mensagens?status=uncertain").get_data(as_text=True)
        assert "Estado incerto" in listing and f"/automacao/mensagens/{delivery.id}#reenviar" in listing
        page = client.get(f"/automacao/mensagens/{delivery.id}").get_data(as_text=True)
        assert "Reenviar" in page and 'name="confirmar"' in page

        refused = client.post(f"/automacao/mensagens/{delivery.id}/reenviar")
        assert refused.status_code == 422 and "duas vezes" in refused.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(Delivery, delivery.id).status == "uncertain"
        run_jobs()
        assert len(hanging_http["requests"]) == 1

        assert client.post(f"/automacao/mensagens/{delivery.id}/reenviar", data={"confirmar": "1"}).status_code == 302
        run_jobs()
    finally:
        app.config.update(SMS_API_URL="", DELIVERY_RESEND_SAFE_CHANNELS=["email", "sms", "whatsapp", "webhook"])
    row = db.session.get(Delivery, delivery.id)
    assert (row.status, row.attempts, row.provider_id) == ("sent", 2, "sms-2")
    assert [r["reference"] for r in hanging_http["requests"]] == ["sms-1", "sms-1"]  # the same key both times


def test_a_sent_delivery_cannot_be_resent(client, login_as):
    login_as(make_user("admin"))
    delivery = queue_delivery(channel="email", recipient="a@exemplo.com.br", body="Oi", key="sent-1")
    delivery.status = "sent"
    db.session.commit()
    assert client.post(f"/automacao/mensagens/{delivery.id}/reenviar", data={"confirmar": "1"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).status == "sent"


def test_pending_retry_shows_its_time_in_sao_paulo_not_failed(app, client, login_as, http_server, run_jobs):
    admin = make_user("admin")
    run_jobs()
    http_server.status = 500
    app.config.update(SMS_API_URL=http_server.url, JOB_RETRY_INTERVALS=[600, 1200, 1800])
    try:
        with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc)):
            delivery = queue_delivery(channel="sms", recipient="+5511987654321", body="Oi", key="retry-label")
            db.session.commit()
            run_jobs()
    finally:
        app.config.update(SMS_API_URL="", JOB_RETRY_INTERVALS=[0, 0, 0])
    row = db.session.get(Delivery, delivery.id)
    assert row.status == "retrying" and row.attempts == 1
    assert timedelta(seconds=600) <= row.retry_at - datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc) < timedelta(seconds=660)
    login_as(admin)
    listing = client.get("/automacao/mensagens").get_data(as_text=True)
    assert "Nova tentativa às 09:10" in listing and "Falhou" not in listing  # 12:10 UTC is 09:10 in São Paulo
    assert "Nova tentativa às 09:10" in client.get("/automacao/mensagens?status=retrying").get_data(as_text=True)
    # RQ's scheduled retry is the one to run it; the sweep steps in only if that retry is lost
    assert engine.requeue_stranded(datetime(2026, 3, 3, 12, 14, tzinfo=timezone.utc))["deliveries"] == 0
    assert engine.requeue_stranded(datetime(2026, 3, 3, 12, 16, tzinfo=timezone.utc))["deliveries"] == 1


def _sms(key: str) -> Delivery:
    delivery = queue_delivery(channel="sms", recipient="+5511987654321", body="Oi", key=key)
    db.session.commit()
    return delivery


def test_failed_delivery_is_retried_once_more_when_its_channel_works_again(app, client, login_as, http_server,
                                                                           run_jobs):
    admin = make_user("admin")
    run_jobs()
    app.config.update(SMS_API_URL=http_server.url)
    try:
        http_server.status = 500
        failed = _sms("down-1")
        run_jobs()
        db.session.refresh(failed)
        assert (failed.status, failed.attempts, failed.retry_at) == ("failed", 4, None)  # first try + 3 retries
        assert engine.requeue_stranded()["healed"] == 0  # nothing shows the channel is back

        http_server.status = 200
        _sms("up-1")
        run_jobs()
        assert engine.requeue_stranded()["healed"] == 1
        run_jobs()
        assert engine.requeue_stranded()["healed"] == 0
    finally:
        app.config.update(SMS_API_URL="")
    db.session.refresh(failed)
    assert (failed.status, failed.attempts, failed.error) == ("sent", 5, None) and failed.extra_retry_at is not None
    assert [r["json"]["reference"] for r in http_server.requests].count("down-1") == 5


def test_the_extra_attempt_is_made_once_only(app, http_server, run_jobs):
    make_user("admin")
    run_jobs()
    app.config.update(SMS_API_URL=http_server.url)
    try:
        http_server.statuses = [500] * 4
        failed = _sms("down-2")
        run_jobs()
        _sms("up-2")  # the channel answers again
        run_jobs()
        http_server.statuses = [500]  # ... but not for the extra attempt
        assert engine.requeue_stranded()["healed"] == 1
        run_jobs()
        db.session.refresh(failed)
        assert (failed.status, failed.attempts) == ("failed", 5)  # one attempt, no RQ retries on it
        _sms("up-3")
        run_jobs()
        assert engine.requeue_stranded()["healed"] == 0
        run_jobs()
    finally:
        app.config.update(SMS_API_URL="")
    assert [r["json"]["reference"] for r in http_server.requests].count("down-2") == 5
    assert db.session.get(Delivery, failed.id).status == "failed"


def test_a_row_stuck_in_sending_from_before_the_lease_is_recovered(app, run_jobs):
    delivery = queue_delivery(channel="email", recipient="a@exemplo.com.br", body="Oi", key="legacy-1")
    delivery.status = "sending"  # as a killed worker left it before claimed_at existed
    db.session.commit()
    assert engine.requeue_stranded()["leases"] == 1
    run_jobs()
    assert db.session.get(Delivery, delivery.id).status == "sent"  # outbox: rewriting the same file is safe


def test_a_send_interrupted_again_after_its_last_automatic_attempt_waits_for_an_admin(app, run_jobs):
    delivery = queue_delivery(channel="email", recipient="a@exemplo.com.br", body="Oi", key="poison-1")
    delivery.status = "sending"  # a message whose worker died on every attempt so far
    delivery.attempts = 1 + len(app.config["JOB_RETRY_INTERVALS"])
    delivery.claimed_at = utcnow() - timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1)
    db.session.commit()
    assert engine.requeue_stranded()["leases"] == 1
    run_jobs()
    row = db.session.get(Delivery, delivery.id)
    assert row.status == "uncertain" and "sem tentativas automáticas" in row.error
