"""The one way modules publish domain events (outbox: same transaction as the change)."""
from portal import jobs
from portal.automation import subjects
from portal.automation.models import Event
from portal.extensions import db


def publish(event_type: str, subject=None, *, actor=None, **payload) -> Event:
    """Record `event_type` for `subject` in the current transaction; processed after commit.

    If the transaction rolls back, the event vanishes with the change. If the process dies after
    commit but before the job runs, the sweep finds the unprocessed row and enqueues it again.
    """
    kind = subjects.kind_of(subject) if subject is not None else None
    if subject is not None and getattr(subject, "id", None) is None:
        db.session.flush()
    event = Event(type=event_type, subject_type=kind, subject_id=getattr(subject, "id", None),
                  actor_id=getattr(actor, "id", None), payload={k: subjects.plain(v) for k, v in payload.items()})
    db.session.add(event)
    db.session.flush()
    event_id = event.id
    from portal.automation.engine import process_event
    jobs.after_commit(db.session, lambda: jobs.enqueue(process_event, event_id, queue_name="default"))
    return event
