from sqlalchemy import select

from portal.extensions import db
from portal.presales.models import Channel, Media, Pipeline, PresalesSettings


def get_settings(share_lock: bool = False) -> PresalesSettings:
    """The blocking rules. Intake reads them under a shared row lock, so a rebuild of the duplicate
    keys (which changes them under an exclusive lock) never interleaves with an intake."""
    stmt = select(PresalesSettings).limit(1)
    if share_lock:
        stmt = stmt.with_for_update(read=True)
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = PresalesSettings()
        db.session.add(row)
        db.session.flush()
    return row


def default_pipeline() -> Pipeline | None:
    return db.session.execute(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.id).limit(1)).scalar()


def channel_by_slug(slug: str) -> Channel | None:
    return db.session.execute(select(Channel).where(Channel.slug == (slug or "").strip().lower())).scalar()


def media_by_name(value: str | None) -> Media | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    return db.session.execute(select(Media).where((Media.slug == value) | (db.func.lower(Media.name) == value),
                                                  Media.active.is_(True))).scalar()
