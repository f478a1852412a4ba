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


def save_calendar(data: dict):
    """Business/quiet hours for SLA deadlines and rules; one row for the company."""
    from sqlalchemy import select

    from portal.accounts.audit import audit
    from portal.errors import ServiceError
    from portal.automation.models import CalendarSettings
    errors = {}
    if not data.get("workdays"):
        errors["workdays"] = "Escolha ao menos um dia útil."
    if data.get("day_start", "") >= data.get("day_end", ""):
        errors["day_end"] = "O expediente precisa terminar depois de começar."
    state = (data.get("state") or "").strip().upper() or None
    if state:
        import holidays
        if state not in holidays.BR.subdivisions:
            errors["state"] = "UF inválida."
    if errors:
        raise ServiceError(errors)
    row = db.session.execute(select(CalendarSettings).limit(1)).scalar_one_or_none() or CalendarSettings()
    row.workdays = ",".join(sorted(data["workdays"]))
    row.day_start, row.day_end = data["day_start"], data["day_end"]
    row.quiet_start, row.quiet_end = data["quiet_start"], data["quiet_end"]
    row.national_holidays, row.state = bool(data.get("national_holidays")), state
    db.session.add(row)
    db.session.flush()
    audit("calendar.updated", row)
    return row


def add_holiday(day, name: str):
    from sqlalchemy import select

    from portal.accounts.audit import audit
    from portal.errors import ServiceError
    from portal.automation.models import Holiday
    if db.session.execute(select(Holiday.id).where(Holiday.day == day)).first():
        raise ServiceError({"day": "Já existe um feriado nesta data."})
    row = Holiday(day=day, name=name.strip())
    db.session.add(row)
    db.session.flush()
    audit("holiday.created", row, day=day.isoformat())
    return row


def unsubscribe_token(channel: str, contact: str) -> str:
    from flask import current_app
    from itsdangerous import URLSafeSerializer
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="opt-out").dumps([channel, contact.lower()])


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    from flask import current_app
    from itsdangerous import BadSignature, URLSafeSerializer
    try:
        channel, contact = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="opt-out").loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return channel, contact
