"""Deliveries: queue one message once (idempotency key), send it in a job, retry, mark the outcome.

States: queued → sending (a lease: claimed_at) → sent | retrying (RQ tries again at retry_at) |
failed (no automatic attempt left; one more once the channel is healthy again) | skipped (opt-out);
a lease that ends with the worker gone → queued again, or uncertain where a resend is not safe.
"""
from datetime import datetime, timedelta

from flask import current_app
from rq import get_current_job
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal import jobs
from portal.errors import ServiceError
from portal.automation import channels
from portal.automation.models import Delivery, OptOut
from portal.dbtypes import utcnow
from portal.extensions import db

CLAIMABLE = ("queued", "retrying")
OPTED_OUT = "Contato pediu para não receber mensagens neste canal (LGPD)."
UNCERTAIN = {"unsafe": "O envio foi interrompido no meio e este canal não garante que um reenvio não duplique a "
                       "mensagem: confira com o destinatário antes de reenviar.",
             "exhausted": "O envio foi interrompido no meio de novo, sem tentativas automáticas restantes: confira "
                          "com o destinatário antes de reenviar."}


def is_opted_out(channel: str, contact: str) -> bool:
    return db.session.execute(select(OptOut.id).where(OptOut.channel == channel,
                                                      OptOut.contact == contact.lower())).first() is not None


def opt_out(channel: str, contact: str, reason: str | None = None) -> OptOut:
    contact = contact.strip().lower()
    row = db.session.execute(select(OptOut).where(OptOut.channel == channel, OptOut.contact == contact)).scalar()
    if row is None:
        row = OptOut(channel=channel, contact=contact, reason=reason)
        db.session.add(row)
        db.session.flush()
    return row


def queue_delivery(*, channel: str, recipient: str, body: str, key: str, subject: str | None = None,
                   html: str | None = None, recipient_name: str | None = None, rule_id: int | None = None,
                   event_id: int | None = None, subject_type: str | None = None, subject_id: int | None = None,
                   attachments: list | None = None, not_before: datetime | None = None) -> Delivery:
    """Create the delivery (or return the one already made with this key) and send it after commit."""
    existing = db.session.execute(select(Delivery).where(Delivery.idempotency_key == key)).scalar_one_or_none()
    if existing is not None:
        return existing
    delivery = Delivery(idempotency_key=key, channel=channel, recipient=recipient, recipient_name=recipient_name,
                        subject=subject, body=body, html=html, rule_id=rule_id, event_id=event_id,
                        subject_type=subject_type, subject_id=subject_id, attachments=attachments or [],
                        not_before=not_before, status="queued")
    if channel != "webhook" and is_opted_out(channel, recipient):
        delivery.status = "skipped"
        delivery.error = OPTED_OUT
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
    except IntegrityError:  # another transaction made it first: same message, not a second one
        return db.session.execute(select(Delivery).where(Delivery.idempotency_key == key)).scalar_one()
    if delivery.status == "queued":
        delivery_id = delivery.id
        jobs.after_commit(db.session, lambda: jobs.enqueue(send_delivery, delivery_id, queue_name="high",
                                                           at=not_before if not_before and not_before > utcnow() else None))
    return delivery


def _claim(delivery_id: int) -> int | None:
    """Take the row for one attempt and start its lease; the attempt number it returns fences the
    outcome, so an attempt that outlived its lease cannot overwrite the next one's."""
    attempt = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(CLAIMABLE))
        .values(status="sending", attempts=Delivery.attempts + 1, claimed_at=utcnow(), retry_at=None)
        .returning(Delivery.attempts)
    ).scalar_one_or_none()
    db.session.commit()
    return attempt


def _finish(delivery_id: int, attempt: int, statuses: tuple, **values) -> None:
    done = db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.attempts == attempt,
                                                     Delivery.status.in_(statuses)).values(**values)).rowcount
    db.session.commit()
    if not done:
        current_app.logger.warning("delivery %s: attempt %s ended after its lease was taken over", delivery_id, attempt)


def _next_retry_at() -> datetime | None:
    """When RQ will run this job again after it raises, or None when no retry is left."""
    job = get_current_job()
    if job is None or not job.should_retry:
        return None
    return utcnow() + timedelta(seconds=job.get_retry_interval())


def send_delivery(delivery_id: int) -> str:
    """Job: claim the delivery, hand it to its channel, record the outcome.

    The claim is a conditional UPDATE, so a retried or duplicated job never sends twice: only
    queued or retrying rows can be claimed, and a sent row never is. A worker killed mid-send
    leaves the row in "sending" until its lease ends (recover_expired_leases).
    """
    attempt = _claim(delivery_id)
    if attempt is None:
        return "not-claimed"
    delivery = db.session.get(Delivery, delivery_id)
    if delivery.channel != "webhook" and is_opted_out(delivery.channel, delivery.recipient):
        _finish(delivery_id, attempt, ("sending",), status="skipped", error=OPTED_OUT)
        return "skipped"
    try:
        provider_id = channels.send(delivery)
    except Exception as exc:  # any failure must leave the row retryable, never stuck in "sending"
        db.session.rollback()
        reason = str(exc) if isinstance(exc, channels.ChannelError) else f"{exc.__class__.__name__}: {exc}"
        retry_at = _next_retry_at()
        _finish(delivery_id, attempt, ("sending",), status="retrying" if retry_at else "failed",
                retry_at=retry_at, error=reason[:2000])
        current_app.logger.warning("delivery %s failed: %s", delivery_id, exc)
        raise
    # A success still counts after a lost lease as long as no later attempt has claimed the row.
    _finish(delivery_id, attempt, ("sending", "queued", "uncertain"), status="sent", provider_id=provider_id,
            error=None, sent_at=utcnow())
    return "sent"


def retry_delivery(delivery: Delivery, confirmed: bool = False) -> None:
    """Admin's resend button: a failed delivery goes back to the queue; an uncertain one (it may have
    reached the recipient already) only once the admin confirmed it."""
    if delivery.status not in ("failed", "uncertain"):
        raise ServiceError({"status": "Só mensagens com falha ou em estado incerto podem ser reenviadas."})
    if delivery.status == "uncertain" and not confirmed:
        raise ServiceError({"confirmar": "Confirme que aceita o risco de o destinatário receber a mensagem duas vezes."})
    delivery.status = "queued"
    delivery_id = delivery.id
    jobs.after_commit(db.session, lambda: jobs.enqueue(send_delivery, delivery_id, queue_name="high"))


def recover_expired_leases(now: datetime) -> int:
    """Rows left in "sending" by a worker that died: back to the queue where a resend is safe, else
    "uncertain" for an admin. So is a row whose automatic attempts are used up, so a message that kills
    its worker every time is not sent forever. Rows from before the lease existed have no claimed_at."""
    cutoff = now - timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    max_attempts = 1 + len(current_app.config["JOB_RETRY_INTERVALS"])
    rows = db.session.execute(select(Delivery).where(
        Delivery.status == "sending", Delivery.claimed_at.is_(None) | (Delivery.claimed_at < cutoff))
        .order_by(Delivery.id).limit(500)).scalars().all()
    recovered, requeue = 0, []
    for row in rows:
        why = "unsafe" if not channels.resend_is_safe(row) else "exhausted" if row.attempts >= max_attempts else None
        safe = why is None
        values = {"status": "queued", "error": "Envio interrompido; reenviado automaticamente com a mesma chave."} \
            if safe else {"status": "uncertain", "error": UNCERTAIN[why]}
        moved = db.session.execute(update(Delivery).where(Delivery.id == row.id, Delivery.status == "sending",
                                                          Delivery.attempts == row.attempts).values(**values)).rowcount
        recovered += moved
        if moved and safe:
            requeue.append(row.id)
        elif moved:
            current_app.logger.warning("delivery %s (%s): send interrupted, uncertain until an admin resends it",
                                       row.id, row.channel)
    db.session.commit()
    for delivery_id in requeue:
        jobs.enqueue(send_delivery, delivery_id, queue_name="high", job_id=f"delivery-{delivery_id}")
    return recovered


def retry_on_healed_channels(now: datetime) -> int:
    """A delivery whose automatic retries all failed gets one more attempt (and only one: extra_retry_at)
    once its channel has delivered something since its last attempt began; a webhook only when the same
    URL has."""
    later = aliased(Delivery)
    healed = (select(later.id).where(later.channel == Delivery.channel, later.status == "sent",
                                     later.sent_at > Delivery.claimed_at,
                                     (Delivery.channel != "webhook") | (later.recipient == Delivery.recipient))
              .exists())
    ids = db.session.execute(select(Delivery.id).where(Delivery.status == "failed", Delivery.extra_retry_at.is_(None),
                                                       Delivery.claimed_at.is_not(None), healed)
                             .order_by(Delivery.id).limit(500)).scalars().all()
    requeue = [delivery_id for delivery_id in ids if db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "failed",
                               Delivery.extra_retry_at.is_(None)).values(status="queued", extra_retry_at=now)).rowcount]
    db.session.commit()
    for delivery_id in requeue:  # one attempt, without RQ's retries
        jobs.enqueue(send_delivery, delivery_id, queue_name="high", job_id=f"delivery-{delivery_id}", retry=False)
    if requeue:
        current_app.logger.info("channel healthy again: one more attempt for deliveries %s", requeue)
    return len(requeue)


def render_email_template(name: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) from templates/emails/<name>.html's three blocks."""
    template = current_app.jinja_env.get_template(f"emails/{name}.html")
    ctx = template.new_context({**current_app.jinja_env.globals, **context, "config": current_app.config})

    def block(block_name):
        return "".join(template.blocks[block_name](ctx)).strip()
    return block("subject"), block("text"), block("html")


def send_template_email(*, to: str, name: str | None, template: str, key: str, subject_type: str | None = None,
                        subject_id: int | None = None, **context) -> Delivery:
    subject, text, html = render_email_template(template, **context)
    return queue_delivery(channel="email", recipient=to, recipient_name=name, subject=subject, body=text, html=html,
                          key=key, subject_type=subject_type, subject_id=subject_id)
