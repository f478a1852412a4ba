"""Deliveries: queue one message once (idempotency key), send it in a job, retry, mark the outcome."""
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal import jobs
from portal.automation import channels
from portal.automation.models import Delivery, OptOut
from portal.dbtypes import utcnow
from portal.extensions import db


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
        delivery.error = "Contato pediu para não receber mensagens neste canal (LGPD)."
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


def send_delivery(delivery_id: int) -> str:
    """Job: claim the delivery, hand it to its channel, record the outcome.

    The claim is a conditional UPDATE, so a retried or duplicated job never sends twice: only
    queued or failed rows can be claimed, and a sent row never is.
    """
    claimed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(("queued", "failed")))
        .values(status="sending", attempts=Delivery.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "not-claimed"
    delivery = db.session.get(Delivery, delivery_id)
    if delivery.channel != "webhook" and is_opted_out(delivery.channel, delivery.recipient):
        delivery.status = "skipped"
        delivery.error = "Contato pediu para não receber mensagens neste canal (LGPD)."
        db.session.commit()
        return "skipped"
    try:
        provider_id = channels.send(delivery)
    except Exception as exc:  # any failure must leave the row retryable, never stuck in "sending"
        db.session.rollback()
        delivery = db.session.get(Delivery, delivery_id)
        delivery.status = "failed"
        reason = str(exc) if isinstance(exc, channels.ChannelError) else f"{exc.__class__.__name__}: {exc}"
        delivery.error = reason[:2000]
        db.session.commit()
        current_app.logger.warning("delivery %s failed: %s", delivery_id, exc)
        raise
    delivery.status = "sent"
    delivery.provider_id = provider_id
    delivery.error = None
    delivery.sent_at = utcnow()
    db.session.commit()
    return "sent"


def retry_delivery(delivery: Delivery) -> None:
    """Admin's retry button: a failed delivery goes back to the queue."""
    if delivery.status != "failed":
        raise ValueError("Só mensagens com falha podem ser reenviadas.")
    delivery.status = "queued"
    delivery_id = delivery.id
    jobs.after_commit(db.session, lambda: jobs.enqueue(send_delivery, delivery_id, queue_name="high"))


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
