"""A unit's selection: choosing options, saving drafts, submitting, reopening.

Rules the server enforces whatever the page shows:
- buyers change only while a window covering their unit is open, and only the categories it opens
  (staff acting on behalf are not held to the dates; every such change is audited);
- nothing changes after submit until staff reopen (logged, with the reason);
- every change first bumps the selection's revision with a conditional UPDATE: on PostgreSQL that row
  lock serializes two tabs (and a submit racing a change), and the (selection, item) unique constraint
  means a line is updated, never duplicated;
- a submit names the revision the buyer confirmed: if anything changed since, it is refused.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.engine import schedule
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.models import (EDITABLE_STATUSES, Category, Item, ItemTypology, Option, OptionPhoto,
                                       OptionPrice, PersonalizationWindow, Selection, SelectionLine)
from portal.personalize.services.catalog import current_price
from portal.personalize.services.common import line_total
from portal.personalize.services.windows import (any_window_open, development_windows, is_category_open,
                                                 open_category_ids, pick_window)
from portal.realestate.models import Unit


class SelectionLocked(ServiceError):
    """Submitted (or changed under the caller's feet): nothing was written."""


class WindowClosed(ServiceError):
    """Outside the personalization window: nothing was written."""


def is_staff(user) -> bool:
    return getattr(user, "role", "customer") != "customer"


# ---- the selection row ------------------------------------------------------------------------------

def get_selection(unit: Unit) -> Selection | None:
    return db.session.execute(select(Selection).where(Selection.unit_id == unit.id)).scalar_one_or_none()


def ensure_selection(unit: Unit, now: datetime | None = None) -> Selection:
    """The unit's selection, created on first need (the unique unit_id settles a race)."""
    selection = get_selection(unit)
    if selection is not None:
        return selection
    now = now or utcnow()
    window = pick_window(unit, development_windows(unit.development_id), now)
    try:
        with db.session.begin_nested():
            selection = Selection(unit_id=unit.id, development_id=unit.development_id, status="not_started",
                                  window_id=getattr(window, "id", None))
            db.session.add(selection)
    except IntegrityError:
        return get_selection(unit)
    schedule(selection)
    return selection


# ---- what the page shows ---------------------------------------------------------------------------

@dataclass
class ItemView:
    item: Item
    quantity: object
    options: list[Option]
    line: SelectionLine | None
    standard: Option | None
    open: bool                                  # the buyer may change it now
    chosen_id: int | None = None                # the option the page marks
    newer_price_cents: int | None = None        # the option's price today, when the line has an older one
    error: str | None = None

    @property
    def chosen(self) -> Option | None:
        return next((o for o in self.options if o.id == self.chosen_id), None)

    @property
    def line_cents(self) -> int:
        return self.line.total_cents if self.line is not None else 0


@dataclass
class UnitPage:
    unit: Unit
    selection: Selection
    window: PersonalizationWindow | None
    window_state: str | None                   # upcoming | open | closed | None (no window)
    any_open: bool
    staff: bool
    groups: list[tuple[Category, list[ItemView]]] = field(default_factory=list)

    @property
    def items(self) -> list[ItemView]:
        return [view for _, views in self.groups for view in views]

    @property
    def editable(self) -> bool:
        return self.selection.editable and (self.staff or self.any_open)

    @property
    def total_cents(self) -> int:
        return self.selection.total_cents

    @property
    def missing(self) -> list[ItemView]:
        """Items with neither a choice nor a standard option: a submit would be refused."""
        return [v for v in self.items if v.line is None and v.standard is None]

    def view_for(self, item_id: int) -> ItemView | None:
        return next((v for v in self.items if v.item.id == item_id), None)


def _applicable_items(unit: Unit, extra_ids: set[int], only_item: int | None = None) -> list[Item]:
    applies = select(ItemTypology.item_id).where(ItemTypology.typology_id == unit.typology_id)
    stmt = (select(Item).where(Item.development_id == unit.development_id,
                               (Item.id.in_(applies) & Item.retired_at.is_(None)) | Item.id.in_(extra_ids or {0}))
            .options(selectinload(Item.typology_links), selectinload(Item.category),
                     selectinload(Item.options).selectinload(Option.photos)))
    if only_item is not None:
        stmt = stmt.where(Item.id == only_item)
    return db.session.execute(stmt).scalars().all()


def unit_page(unit: Unit, user, now: datetime | None = None, only_item: int | None = None,
              posted: dict[int, int] | None = None) -> UnitPage:
    """Everything the one-page portal needs, in a handful of queries. `posted` overlays choices a
    refused form post carried, so the buyer does not lose them."""
    now = now or utcnow()
    selection = ensure_selection(unit, now)
    windows = development_windows(unit.development_id)
    window = pick_window(unit, windows, now)
    staff = is_staff(user)
    any_open = any_window_open(unit, windows, now)
    open_ids = open_category_ids(unit, windows, now)
    lines = {line.item_id: line for line in db.session.execute(
        select(SelectionLine).where(SelectionLine.selection_id == selection.id)
        .options(selectinload(SelectionLine.price), selectinload(SelectionLine.option))).scalars()}
    items = _applicable_items(unit, set(lines), only_item)
    page = UnitPage(unit=unit, selection=selection, window=window,
                    window_state=window.state(now) if window else None, any_open=any_open, staff=staff)
    by_category: dict[int, tuple[Category, list[ItemView]]] = {}
    for item in sorted(items, key=lambda i: (i.category.position, i.category.name, i.position, i.id)):
        line = lines.get(item.id)
        quantity = item.quantity_for(unit.typology_id) if line is None else line.quantity
        options = [o for o in item.options if o.offered or (line is not None and o.id == line.option_id)]
        standard = next((o for o in item.options if o.is_standard and o.offered), None)
        category_open = staff or is_category_open(item.category_id, open_ids, any_open)
        view = ItemView(item=item, quantity=quantity, options=options, line=line, standard=standard,
                        open=selection.editable and category_open and item.retired_at is None
                        and item.quantity_for(unit.typology_id) is not None)
        view.chosen_id = line.option_id if line is not None else getattr(standard, "id", None)
        if posted and item.id in posted and view.open:
            view.chosen_id = posted[item.id]
        if line is not None and selection.editable and line.option.price_version > line.price.version:
            view.newer_price_cents = line.option.price_cents
        by_category.setdefault(item.category_id, (item.category, []))[1].append(view)
    page.groups = list(by_category.values())
    return page


def ready_photos(option: Option) -> list[OptionPhoto]:
    return [p for p in option.photos if p.status == "ready"]


# ---- changes ---------------------------------------------------------------------------------------

def _claim(selection: Selection, actor, now: datetime, **extra) -> None:
    """Bump the revision if the selection is still editable; the row lock this takes is what keeps
    concurrent changes and submits in line."""
    values = {"revision": Selection.revision + 1, "last_activity_at": now,
              "last_activity_by_id": getattr(actor, "id", None),
              "status": case((Selection.status == "not_started", "draft"), else_=Selection.status), **extra}
    done = db.session.execute(update(Selection).where(Selection.id == selection.id,
                                                      Selection.status.in_(EDITABLE_STATUSES))
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(selection)
    if not done:
        raise SelectionLocked({"selection": "Esta personalização já foi enviada e não pode mais ser alterada. "
                                            "Se precisar mudar algo, fale com a equipe de personalização."})


def _check_window(unit: Unit, windows, now: datetime, category_id: int | None = None) -> None:
    if not any_window_open(unit, windows, now):
        raise WindowClosed({"window": "A personalização não está aberta agora: sua unidade está em modo de consulta."})
    if category_id is not None:
        open_ids = open_category_ids(unit, windows, now)
        if open_ids is not None and category_id not in open_ids:
            raise WindowClosed({"window": "Esta categoria não está aberta para escolha nesta janela."})


def _recompute_total(selection: Selection) -> int:
    total = db.session.scalar(select(func.coalesce(func.sum(SelectionLine.total_cents), 0))
                              .where(SelectionLine.selection_id == selection.id))
    db.session.execute(update(Selection).where(Selection.id == selection.id).values(total_cents=total)
                       .execution_options(synchronize_session=False))
    selection.total_cents = total
    db.session.flush()
    return total


def _upsert_line(selection: Selection, item: Item, option: Option, price: OptionPrice, quantity, actor,
                 now: datetime, on_behalf: bool) -> SelectionLine:
    values = {"option_id": option.id, "option_price_id": price.id, "quantity": quantity,
              "unit_price_cents": price.price_cents, "total_cents": line_total(quantity, price.price_cents),
              "chosen_at": now, "chosen_by_id": getattr(actor, "id", None), "on_behalf": on_behalf}
    line = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == selection.id,
                                                          SelectionLine.item_id == item.id)).scalar_one_or_none()
    if line is None:
        try:
            with db.session.begin_nested():
                line = SelectionLine(selection_id=selection.id, item_id=item.id, **values)
                db.session.add(line)
            return line
        except IntegrityError:  # the other tab inserted it first: update that one
            line = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == selection.id,
                                                                  SelectionLine.item_id == item.id)).scalar_one()
    for key, value in values.items():
        setattr(line, key, value)
    return line


def _resolve(unit: Unit, item_id, option_id) -> tuple[Item, Option]:
    item = db.session.get(Item, normalize.row_id(item_id) or 0)
    if item is None or item.development_id != unit.development_id:
        raise ServiceError({"item": "Item não encontrado."})
    option = db.session.get(Option, normalize.row_id(option_id) or 0)
    if option is None or option.item_id != item.id:
        raise ServiceError({f"item-{item.id}": "Escolha uma das opções deste item."})
    return item, option


def choose(selection: Selection, item_id, option_id, actor, now: datetime | None = None) -> SelectionLine | None:
    """Choose `option_id` for `item_id`. Re-choosing the option a line already has changes nothing
    (it keeps the price it was chosen with). Returns the line (None when nothing changed)."""
    now = now or utcnow()
    unit = selection.unit
    item, option = _resolve(unit, item_id, option_id)
    staff = is_staff(actor)
    if not staff:
        _check_window(unit, development_windows(unit.development_id), now, item.category_id)
    if not selection.editable:
        raise SelectionLocked({"selection": "Esta personalização já foi enviada e não pode mais ser alterada."})
    line = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == selection.id,
                                                          SelectionLine.item_id == item.id)).scalar_one_or_none()
    if line is not None and line.option_id == option.id:
        _claim(selection, actor, now)
        return None
    quantity = item.quantity_for(unit.typology_id)
    if quantity is None or item.retired_at is not None:
        raise ServiceError({f"item-{item.id}": "Este item não está disponível para a sua unidade."})
    if not option.offered:
        raise ServiceError({f"item-{item.id}": "Esta opção não está mais disponível. Escolha outra."})
    _claim(selection, actor, now)
    line = _upsert_line(selection, item, option, current_price(option), quantity, actor, now, on_behalf=staff)
    db.session.flush()
    _recompute_total(selection)
    if staff:
        audit("selection.changed_on_behalf", selection, unit_id=unit.id, item=item.name, option=option.name,
              price_cents=line.unit_price_cents)
    return line


def save_draft(selection: Selection, choices: dict, actor, now: datetime | None = None) -> int:
    """The no-JavaScript form post: every item's radio at once. Only what differs is written; an
    error on any item writes nothing (the caller rolls back). Returns how many lines changed."""
    now = now or utcnow()
    unit = selection.unit
    if not is_staff(actor):
        _check_window(unit, development_windows(unit.development_id), now)
    page = unit_page(unit, actor, now)
    errors, changed = {}, 0
    for view in page.items:
        wanted = normalize.row_id(choices.get(view.item.id))
        if wanted is None:
            continue
        if wanted == view.chosen_id:  # unchanged (a line's option, or the standard one)
            continue
        try:
            if choose(selection, view.item.id, wanted, actor, now) is not None:
                changed += 1
        except SelectionLocked:
            raise
        except ServiceError as exc:
            errors[f"item-{view.item.id}"] = next(iter(exc.errors.values()))
    if errors:
        raise ServiceError(errors)
    _claim(selection, actor, now)
    return changed


def submit(selection: Selection, revision, actor, now: datetime | None = None) -> Selection:
    """Freeze the selection as confirmed: items still on their standard option get a line at no cost,
    so the submitted list is complete on its own."""
    now = now or utcnow()
    unit = selection.unit
    staff = is_staff(actor)
    if not staff:
        _check_window(unit, development_windows(unit.development_id), now)
    page = unit_page(unit, actor, now)
    if page.missing:
        raise ServiceError({"selection": "Escolha uma opção para: " + ", ".join(v.item.name for v in page.missing)
                                         + "."})
    expected = normalize.row_id(revision)  # an INTEGER counter: read like an id
    if expected is None:
        expected = -1
    done = db.session.execute(
        update(Selection).where(Selection.id == selection.id, Selection.status.in_(EDITABLE_STATUSES),
                                Selection.revision == expected)
        .values(status="submitted", submitted_at=now, submitted_by_id=getattr(actor, "id", None),
                revision=Selection.revision + 1, last_activity_at=now,
                last_activity_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(selection)
    if not done:
        if selection.status == "submitted":
            raise SelectionLocked({"selection": "Esta personalização já foi enviada."})
        raise SelectionLocked({"selection": "Sua seleção mudou desde a revisão (em outra aba ou por outra pessoa). "
                                            "Confira a lista de novo antes de enviar."})
    for view in page.items:
        if view.line is None and view.standard is not None:
            _upsert_line(selection, view.item, view.standard, current_price(view.standard), view.quantity, actor,
                         now, on_behalf=staff)
    db.session.flush()
    total = _recompute_total(selection)
    audit("selection.submitted", selection, unit_id=unit.id, total_cents=total, on_behalf=staff)
    publish("selection.submitted", selection, actor=actor, total_cents=total, on_behalf=staff)
    from portal.personalize.services import contracts  # the contract PDF is rendered by the worker
    if contracts.current_template(selection.development_id) is not None:
        contracts.request_contract(selection, actor)
    return selection


def reopen(selection: Selection, actor, reason: str, now: datetime | None = None) -> Selection:
    now = now or utcnow()
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ServiceError({"reason": "Informe o motivo da reabertura (fica registrado)."})
    if len(reason) > 255:
        raise ServiceError({"reason": "Use no máximo 255 caracteres."})
    done = db.session.execute(
        update(Selection).where(Selection.id == selection.id, Selection.status == "submitted")
        .values(status="reopened", reopened_at=now, reopened_by_id=getattr(actor, "id", None), reopen_reason=reason,
                revision=Selection.revision + 1, last_activity_at=now, last_activity_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(selection)
    if not done:
        raise ServiceError({"reason": "Só é possível reabrir uma personalização enviada."})
    from portal.personalize.services import contracts  # a changed selection needs a new contract
    contracts.supersede(selection)
    audit("selection.reopened", selection, unit_id=selection.unit_id, reason=reason)
    publish("selection.reopened", selection, actor=actor, reason=reason)
    return selection
