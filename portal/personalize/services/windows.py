"""Personalization windows: when buyers of a development (or of one tower/typology) may choose.

Which window concerns a unit: among the windows covering it, the open one (the most specific wins:
tower + typology over tower or typology over the whole development), else the next to open, else the
last that closed. Categories are open when any window covering the unit is open now and lists them
(a window listing none opens every category).
"""
from datetime import datetime

from sqlalchemy import select

from portal import jobs, normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.models import Category, PersonalizationWindow
from portal.personalize.services.common import field, parse_local_datetime, parse_text
from portal.realestate.models import Development, Tower, Typology


def development_windows(development_id: int) -> list[PersonalizationWindow]:
    return db.session.execute(select(PersonalizationWindow).where(
        PersonalizationWindow.development_id == development_id).order_by(PersonalizationWindow.opens_at)
    ).scalars().all()


def pick_window(unit, windows, now: datetime) -> PersonalizationWindow | None:
    covering = [w for w in windows if w.covers(unit)]
    open_now = [w for w in covering if w.is_open(now)]
    if open_now:
        return max(open_now, key=lambda w: (w.specificity, -w.closes_at.timestamp()))
    upcoming = [w for w in covering if w.opens_at > now]
    if upcoming:
        return min(upcoming, key=lambda w: (w.opens_at, -w.specificity))
    return max(covering, key=lambda w: (w.closes_at, w.specificity)) if covering else None


def open_category_ids(unit, windows, now: datetime) -> set[int] | None:
    """Ids of the categories the buyer may change now; None means every category."""
    result: set[int] = set()
    for window in windows:
        if window.covers(unit) and window.is_open(now):
            if not window.categories:
                return None
            result.update(c.id for c in window.categories)
    return result


def is_category_open(category_id: int, open_ids: set[int] | None, any_open: bool) -> bool:
    return any_open and (open_ids is None or category_id in open_ids)


def any_window_open(unit, windows, now: datetime) -> bool:
    return any(w.covers(unit) and w.is_open(now) for w in windows)


def _own(model, development, value):
    row = db.session.get(model, normalize.row_id(value) or 0)
    return row if row is not None and row.development_id == development.id else None


def save_window(development: Development, data: dict, window: PersonalizationWindow | None = None
                ) -> PersonalizationWindow:
    errors: dict[str, str] = {}
    name = field(errors, "name", parse_text, data.get("name"), "um nome para a janela", 120)
    opens_at = field(errors, "opens_at", parse_local_datetime, data.get("opens_at"), "a abertura")
    closes_at = field(errors, "closes_at", parse_local_datetime, data.get("closes_at"), "o encerramento")
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = "O encerramento precisa ser depois da abertura."
    tower = _own(Tower, development, data.get("tower_id"))
    if data.get("tower_id") and tower is None:
        errors["tower_id"] = "Escolha uma torre deste empreendimento."
    typology = _own(Typology, development, data.get("typology_id"))
    if data.get("typology_id") and typology is None:
        errors["typology_id"] = "Escolha uma tipologia deste empreendimento."
    ids = {normalize.row_id(i) for i in data.get("category_ids") or []} - {None}
    categories = db.session.execute(select(Category).where(Category.id.in_(ids),
                                                           Category.development_id == development.id)
                                    ).scalars().all()
    if len(categories) != len(ids):
        errors["category_ids"] = "Escolha categorias deste empreendimento."
    if opens_at and closes_at and "tower_id" not in errors and "typology_id" not in errors:
        for other in development_windows(development.id):
            if (other is not window and other.tower_id == getattr(tower, "id", None)
                    and other.typology_id == getattr(typology, "id", None)
                    and other.opens_at < closes_at and opens_at < other.closes_at):
                errors["opens_at"] = (f"Este período se sobrepõe à janela “{other.name}” para as mesmas unidades. "
                                      "Ajuste as datas ou edite aquela janela.")
                break
    if errors:
        raise ServiceError(errors)
    created = window is None
    window = window or PersonalizationWindow(development_id=development.id)
    moved = created or window.opens_at != opens_at or window.closes_at != closes_at
    window.name, window.tower_id, window.typology_id = name, getattr(tower, "id", None), getattr(typology, "id", None)
    if not created and window.opens_at != opens_at:
        window.opened_event_at = None  # a new opening date announces the opening again
    if not created and window.closes_at != closes_at:
        window.closed_event_at = None
    window.opens_at, window.closes_at = opens_at, closes_at
    window.categories = categories
    db.session.add(window)
    db.session.flush()
    audit("window.created" if created else "window.updated", window, name=name, opens_at=opens_at.isoformat(),
          closes_at=closes_at.isoformat(), tower_id=window.tower_id, typology_id=window.typology_id,
          categories=sorted(ids))
    refresh_later(development.id)
    if moved:
        from portal.personalize.jobs import window_tick
        jobs.enqueue_after_commit(db.session, window_tick)
    return window


def delete_window(window: PersonalizationWindow) -> None:
    development_id = window.development_id
    audit("window.deleted", window, name=window.name)
    db.session.delete(window)
    db.session.flush()
    refresh_later(development_id)


def refresh_later(development_id: int) -> None:
    """Point every selection of the development at its window again and re-arm the time rules
    (in the worker: a development can have thousands of units)."""
    from portal.personalize.jobs import refresh_development
    jobs.enqueue_after_commit(db.session, refresh_development, development_id, queue_name="low")
