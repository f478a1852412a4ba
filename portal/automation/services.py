from sqlalchemy import update

from portal.automation.models import Notification
from portal.dbtypes import utcnow
from portal.extensions import db


def notify(user_id: int, title: str, body: str = "", url: str | None = None, key: str | None = None):
    """In-app notification (bell); with a key, made at most once."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError
    if key:
        existing = db.session.execute(select(Notification).where(Notification.idempotency_key == key)).scalar()
        if existing:
            return existing
    row = Notification(user_id=user_id, title=title[:200], body=body, url=url, idempotency_key=key)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.execute(select(Notification).where(Notification.idempotency_key == key)).scalar_one()
    return row


def mark_notifications_read(user) -> int:
    return db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                              .values(read_at=utcnow())).rowcount
