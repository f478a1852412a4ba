"""Worker jobs: photo versions, window opening/closing events, keeping selections on their window."""
from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal.automation.engine import schedule
from portal.automation.events import publish
from portal.automation.models import Rule
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.jobs import periodic
from portal.personalize.models import OptionPhoto, PersonalizationWindow, Selection
from portal.realestate.models import Unit, UnitBuyer

BATCH = 500


def make_photo_versions(photo_id: int) -> str:
    """Thumbnail and large JPEG of an uploaded photo. A file Pillow cannot read, or one above the pixel limit
    (stored before the upload checked it), is marked failed (staff see why); retrying would not change it."""
    from portal.personalize.services.photos import render_versions
    from portal.uploads import UploadRefused

    photo = db.session.get(OptionPhoto, photo_id)
    if photo is None:
        return "gone"
    try:
        render_versions(photo)
    except UploadRefused as exc:
        photo.status, photo.error = "failed", str(exc)[:255]
    except Exception as exc:  # noqa: BLE001 - any decoder error means "not a usable image"
        photo.status, photo.error = "failed", f"Imagem ilegível: {exc.__class__.__name__}"[:255]
    else:
        photo.status, photo.error = "ready", None
    db.session.commit()
    return photo.status


def invite_buyers(user_ids: list[int], actor_id: int | None) -> int:
    """Invitations for a whole import, in batches; anyone invited meanwhile is skipped."""
    from portal.accounts.models import User
    from portal.personalize.services.buyers import invite, never_invited

    actor = db.session.get(User, actor_id) if actor_id else None
    sent = 0
    for start in range(0, len(user_ids), 100):
        for user in never_invited(user_ids[start:start + 100]):
            invite(user, actor)
            sent += 1
        db.session.commit()
    return sent


def refresh_development(development_id: int, now: datetime | None = None) -> int:
    """Every unit with buyers gets a selection; every selection points at the window that concerns it
    now, and its time rules (e.g. "3 days before the deadline") follow that window's dates."""
    from portal.personalize.services.selections import ensure_selection
    from portal.personalize.services.windows import development_windows, pick_window

    now = now or utcnow()
    windows = development_windows(development_id)
    missing = db.session.execute(
        select(Unit).where(Unit.development_id == development_id,
                           Unit.id.in_(select(UnitBuyer.unit_id)),
                           Unit.id.not_in(select(Selection.unit_id)))).scalars().all()
    for unit in missing:
        ensure_selection(unit, now)
    db.session.commit()
    rules = db.session.execute(select(Rule).where(Rule.active.is_(True), Rule.trigger == "time",
                                                  Rule.subject_type == "selection")).scalars().all()
    ids = db.session.execute(select(Selection.id).where(Selection.development_id == development_id)
                             .order_by(Selection.id)).scalars().all()
    for start in range(0, len(ids), BATCH):
        rows = db.session.execute(select(Selection, Unit).join(Unit, Unit.id == Selection.unit_id)
                                  .where(Selection.id.in_(ids[start:start + BATCH]))).all()
        for selection, unit in rows:
            window = pick_window(unit, windows, now)
            window_id = getattr(window, "id", None)
            if selection.window_id != window_id:
                selection.window_id = window_id
                db.session.flush()
                db.session.expire(selection, ["window"])
            if rules:
                schedule(selection, rules)
        db.session.commit()
    return len(ids)


@periodic(every=timedelta(minutes=1))
def window_tick(now: datetime | None = None) -> dict:
    """Publish window.opened / window.closed once per window (a conditional UPDATE claims each), then
    move the development's selections to the window that now concerns them."""
    now = now or utcnow()
    touched, counts = set(), {"opened": 0, "closed": 0}
    due = db.session.execute(select(PersonalizationWindow).where(
        ((PersonalizationWindow.opened_event_at.is_(None)) & (PersonalizationWindow.opens_at <= now))
        | ((PersonalizationWindow.closed_event_at.is_(None)) & (PersonalizationWindow.closes_at <= now)))
    ).scalars().all()
    for window in due:
        if window.opened_event_at is None and window.opens_at <= now and _claim(window, "opened_event_at", now):
            if now < window.closes_at:  # a window saved after its end never announces an opening
                publish("window.opened", window, opens_at=window.opens_at, closes_at=window.closes_at)
                counts["opened"] += 1
            touched.add(window.development_id)
        if window.closed_event_at is None and window.closes_at <= now and _claim(window, "closed_event_at", now):
            publish("window.closed", window, closes_at=window.closes_at)
            counts["closed"] += 1
            touched.add(window.development_id)
    db.session.commit()
    for development_id in sorted(touched):
        refresh_development(development_id, now)
    return counts


def _claim(window: PersonalizationWindow, column: str, now: datetime) -> bool:
    col = getattr(PersonalizationWindow, column)
    done = db.session.execute(update(PersonalizationWindow).where(PersonalizationWindow.id == window.id, col.is_(None))
                              .values({column: now}).execution_options(synchronize_session=False)).rowcount
    if done:
        setattr(window, column, now)
    return bool(done)
