"""The figures of the personalization dashboard and of its three reports, from one place so the PDF, the
CSV and the page always print the same numbers for the same filters.

Everything starts from the caller's scope (`criteria(user, Unit)`: staff see their developments, admin all).

- unit_progress(): every unit in personalization (a buyer or a selection) with its stage
  (não iniciada / rascunho / enviada / contrato enviado / assinado), the window that concerns it now
  (the same pick as the buyer's page) and whether it is late (deadline passed, not submitted).
- option_rows(): units and quantities per development · tower · item · option, counting only submitted
  selections (a draft is not a purchase yet).
- contracted_rows() (module dashboard_values, reachable from here): per submitted unit, the contracted total,
  payment, contract/envelope status and signed date, with subtotals per tower and development.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select

from portal.accounts.models import User
from portal.accounts.scope import criteria
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.contracts import Contract, PaymentChoice
from portal.personalize.esign.models import Envelope
from portal.personalize.models import Category, Item, Option, PersonalizationWindow, Selection, SelectionLine
from portal.realestate.models import Development, Tower, Unit, UnitBuyer

STAGES = {"not_started": "Não iniciada", "draft": "Rascunho", "submitted": "Enviada",
          "contract_sent": "Contrato enviado", "signed": "Assinado"}
STAGE_COLORS = {"not_started": "#9ca3af", "draft": "#f59e0b", "submitted": "#1d4ed8",
                "contract_sent": "#7c3aed", "signed": "#16a34a"}
NOT_SUBMITTED = ("not_started", "draft")
MEASURES = {"area": "m²", "unit": "un.", "fixed": "un."}
NO_WINDOW = 0  # the window filter value of units no window covers


@dataclass(frozen=True)
class Filters:
    """The dashboard's and the reports' filters (ids already checked against the caller's scope)."""
    development_id: int | None = None
    tower_id: int | None = None
    category_id: int | None = None
    item_id: int | None = None

    @classmethod
    def from_params(cls, params: dict) -> "Filters":
        def num(key):
            value = (params or {}).get(key)
            return int(value) if value not in (None, "") else None
        return cls(num("development"), num("tower"), num("category"), num("item"))

    def args(self) -> dict:
        """The filters as URL parameters (the reports' and the dashboard's names)."""
        out = {"development": self.development_id, "tower": self.tower_id, "category": self.category_id,
               "item": self.item_id}
        return {k: v for k, v in out.items() if v is not None}


def _unit_filters(stmt, user: User, f: Filters):
    stmt = stmt.where(criteria(user, Unit))
    if f.development_id:
        stmt = stmt.where(Unit.development_id == f.development_id)
    if f.tower_id:
        stmt = stmt.where(Unit.tower_id == f.tower_id)
    return stmt


def _buyer_names(unit_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for start in range(0, len(unit_ids), 900):
        for unit_id, name in db.session.execute(
                select(UnitBuyer.unit_id, User.name).join(User, User.id == UnitBuyer.user_id)
                .where(UnitBuyer.unit_id.in_(unit_ids[start:start + 900])).order_by(User.name)):
            out.setdefault(unit_id, []).append(name)
    return out


def _in_chunks(stmt_for, ids) -> list:
    rows = []
    for start in range(0, len(ids), 900):
        rows += db.session.execute(stmt_for(ids[start:start + 900])).scalars().all()
    return rows


@dataclass
class Paperwork:
    """A selection's current contract, the envelope of that contract and the buyer's payment choice."""
    contract: Contract | None = None
    envelope: Envelope | None = None
    payment: PaymentChoice | None = None


def paperwork(selection_ids: list[int]) -> dict[int, Paperwork]:
    out = {sid: Paperwork() for sid in selection_ids}
    for c in _in_chunks(lambda ids: select(Contract).where(Contract.selection_id.in_(ids),
                                                           Contract.status != "superseded").order_by(Contract.id),
                        selection_ids):
        out[c.selection_id].contract = c  # the newest one wins
    current = {p.contract.id: sid for sid, p in out.items() if p.contract is not None}
    for e in _in_chunks(lambda ids: select(Envelope).where(Envelope.contract_id.in_(ids)).order_by(Envelope.id),
                        list(current)):
        out[current[e.contract_id]].envelope = e
    for p in _in_chunks(lambda ids: select(PaymentChoice).where(PaymentChoice.selection_id.in_(ids)), selection_ids):
        out[p.selection_id].payment = p
    return out


def stage_of(selection_status: str | None, envelope: Envelope | None) -> str:
    if selection_status in (None, "not_started"):
        return "not_started"
    if selection_status != "submitted":
        return "draft"  # draft or reopened: the buyer is (again) choosing
    if envelope is not None and envelope.status == "signed":
        return "signed"
    if envelope is not None and envelope.status in ("sent", "partial"):
        return "contract_sent"
    return "submitted"


# ---- andamento da personalização ---------------------------------------------------------------------------------

@dataclass
class UnitProgress:
    unit_id: int
    number: str
    development_id: int
    development: str
    tower_id: int
    tower: str
    typology_id: int | None
    buyers: list[str]
    selection_id: int | None
    total_cents: int
    stage: str
    window: PersonalizationWindow | None = None
    late: bool = False

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]

    @property
    def deadline(self) -> datetime | None:
        return self.window.closes_at if self.window else None

    @property
    def window_id(self) -> int:
        return self.window.id if self.window else NO_WINDOW

    @property
    def label(self) -> str:
        return f"{self.tower} · {self.number}"


def unit_progress(user: User, f: Filters = Filters(), now: datetime | None = None) -> list[UnitProgress]:
    """Units in personalization (with a buyer, or already with a selection) in the caller's scope."""
    from portal.personalize.services.windows import pick_window
    now = now or utcnow()
    stmt = (select(Unit.id, Unit.number, Unit.development_id, Development.name, Unit.tower_id, Tower.name,
                   Unit.typology_id, Selection.id, Selection.status, Selection.total_cents)
            .select_from(Unit).join(Development, Development.id == Unit.development_id)
            .join(Tower, Tower.id == Unit.tower_id).outerjoin(Selection, Selection.unit_id == Unit.id)
            .where(or_(Selection.id.is_not(None), Unit.id.in_(select(UnitBuyer.unit_id))))
            .order_by(Development.name, Development.id, Tower.name, Unit.floor, Unit.number, Unit.id))
    rows = db.session.execute(_unit_filters(stmt, user, f)).all()
    buyers = _buyer_names([r[0] for r in rows])
    papers = paperwork([r[7] for r in rows if r[7] is not None])
    dev_ids = sorted({r[2] for r in rows})
    windows: dict[int, list] = {}
    for w in _in_chunks(lambda ids: select(PersonalizationWindow).where(PersonalizationWindow.development_id.in_(ids))
                        .order_by(PersonalizationWindow.opens_at), dev_ids):
        windows.setdefault(w.development_id, []).append(w)
    out = []
    for unit_id, number, dev_id, dev, tower_id, tower, typology_id, sel_id, status, total in rows:
        envelope = papers[sel_id].envelope if sel_id is not None else None
        u = UnitProgress(unit_id, number, dev_id, dev, tower_id, tower, typology_id, buyers.get(unit_id, []),
                         sel_id, total or 0, stage_of(status, envelope))
        u.window = pick_window(u, windows.get(dev_id, []), now)
        u.late = u.stage in NOT_SUBMITTED and u.window is not None and u.window.closes_at <= now
        out.append(u)
    return out


@dataclass
class WindowRow:
    window: PersonalizationWindow | None
    development_id: int
    development: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    late: int = 0

    @property
    def id(self) -> int:
        return self.window.id if self.window else NO_WINDOW

    @property
    def name(self) -> str:
        return self.window.name if self.window else "Sem janela"

    @property
    def deadline(self) -> datetime | None:
        return self.window.closes_at if self.window else None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Progress:
    units: list[UnitProgress]
    counts: dict
    windows: list[WindowRow]
    late: list[UnitProgress]

    @property
    def total(self) -> int:
        return len(self.units)


def summarize(units: list[UnitProgress]) -> Progress:
    counts = dict.fromkeys(STAGES, 0)
    by_window: dict[tuple, WindowRow] = {}
    for u in units:
        counts[u.stage] += 1
        key = (u.development_id, u.window_id)
        row = by_window.setdefault(key, WindowRow(u.window, u.development_id, u.development))
        row.counts[u.stage] += 1
        row.late += u.late
    far = datetime.max.replace(tzinfo=None)
    ordered = sorted(by_window.values(), key=lambda r: (r.window is None, (r.deadline.replace(tzinfo=None)
                                                                          if r.deadline else far), r.development))
    late = sorted((u for u in units if u.late), key=lambda u: (u.deadline, u.development, u.tower, u.number))
    return Progress(units, counts, ordered, late)


def progress(user: User, f: Filters = Filters(), now: datetime | None = None) -> Progress:
    return summarize(unit_progress(user, f, now))


# ---- opções escolhidas -------------------------------------------------------------------------------------------

def _quantity(value, basis: str):
    value = Decimal(value or 0)
    return int(value) if basis != "area" and value == value.to_integral_value() else value


def option_rows(user: User, f: Filters = Filters()) -> list[dict]:
    """Per development · tower · item · option: units that chose it and the quantity to buy; after the options
    of an item with more than one chosen option, its subtotal (kind "item")."""
    stmt = (select(Development.id, Development.name, Tower.id, Tower.name, Category.id, Category.name, Item.id,
                   Item.name, Item.basis, Option.id, Option.name, func.count(func.distinct(Selection.unit_id)),
                   func.sum(SelectionLine.quantity))
            .select_from(SelectionLine).join(Selection, Selection.id == SelectionLine.selection_id)
            .join(Unit, Unit.id == Selection.unit_id).join(Tower, Tower.id == Unit.tower_id)
            .join(Development, Development.id == Unit.development_id)
            .join(Item, Item.id == SelectionLine.item_id).join(Category, Category.id == Item.category_id)
            .join(Option, Option.id == SelectionLine.option_id)
            .where(Selection.status == "submitted")
            .group_by(Development.id, Development.name, Tower.id, Tower.name, Category.id, Category.name,
                      Category.position, Item.id, Item.name, Item.basis, Item.position, Option.id, Option.name,
                      Option.position)
            .order_by(Development.name, Development.id, Tower.name, Tower.id, Category.position, Category.name,
                      Item.position, Item.name, Item.id, Option.position, Option.name, Option.id))
    stmt = _unit_filters(stmt, user, f)
    if f.category_id:
        stmt = stmt.where(Item.category_id == f.category_id)
    if f.item_id:
        stmt = stmt.where(SelectionLine.item_id == f.item_id)
    out, group = [], []

    def close_group():
        if len(group) > 1:
            first = group[0]
            qty = sum((Decimal(g["quantity"]) for g in group), Decimal(0))
            out.append({**first, "kind": "item", "option_id": None, "option": f"Total do item ({len(group)} opções)",
                        "units": sum(g["units"] for g in group), "quantity": _quantity(qty, first["basis"])})
        group.clear()

    for (dev_id, dev, tower_id, tower, cat_id, cat, item_id, item, basis, opt_id, opt, units,
         qty) in db.session.execute(stmt):
        if group and (group[0]["tower_id"], group[0]["item_id"]) != (tower_id, item_id):
            close_group()
        row = {"kind": "option", "development_id": dev_id, "development": dev, "tower_id": tower_id, "tower": tower,
               "category_id": cat_id, "category": cat, "item_id": item_id, "item": item, "basis": basis,
               "option_id": opt_id, "option": opt, "units": units, "quantity": _quantity(qty, basis),
               "measure": MEASURES.get(basis, "")}
        out.append(row)
        group.append(row)
    close_group()
    return out


def submitted_unit_count(user: User, f: Filters = Filters()) -> int:
    stmt = (select(func.count(Selection.id)).select_from(Selection).join(Unit, Unit.id == Selection.unit_id)
            .where(Selection.status == "submitted"))
    return db.session.scalar(_unit_filters(stmt, user, f)) or 0


def option_totals(rows: list[dict]) -> list[dict]:
    """Units per item · option over every tower of the rows (the chart's bars), most chosen first."""
    totals: dict[tuple, dict] = {}
    for r in rows:
        if r["kind"] != "option":
            continue
        key = (r["item_id"], r["option_id"])
        t = totals.setdefault(key, {"item_id": r["item_id"], "option_id": r["option_id"], "item": r["item"],
                                    "option": r["option"], "units": 0})
        t["units"] += r["units"]
    return sorted(totals.values(), key=lambda t: (-t["units"], t["item"], t["option"]))


# ---- the filtered unit list (drill-down) -------------------------------------------------------------------------

def units_choosing(user: User, f: Filters, option_id: int | None = None) -> set[int]:
    """Units whose submitted selection has the option (or, without one, any option of the filter's item or
    category)."""
    stmt = (select(Selection.unit_id).select_from(SelectionLine)
            .join(Selection, Selection.id == SelectionLine.selection_id).join(Unit, Unit.id == Selection.unit_id)
            .join(Item, Item.id == SelectionLine.item_id).where(Selection.status == "submitted"))
    stmt = _unit_filters(stmt, user, f)
    if option_id:
        stmt = stmt.where(SelectionLine.option_id == option_id)
    if f.item_id:
        stmt = stmt.where(SelectionLine.item_id == f.item_id)
    if f.category_id:
        stmt = stmt.where(Item.category_id == f.category_id)
    return set(db.session.execute(stmt).scalars())


def filtered_units(user: User, f: Filters, *, stage: str | None = None, late: bool = False,
                   window_id: int | None = None, option_id: int | None = None,
                   now: datetime | None = None) -> list[UnitProgress]:
    units = unit_progress(user, f, now)
    if option_id or f.item_id or f.category_id:
        chosen = units_choosing(user, f, option_id)
        units = [u for u in units if u.unit_id in chosen]
    if stage:
        units = [u for u in units if u.stage == stage]
    if late:
        units = [u for u in units if u.late]
    if window_id is not None:
        units = [u for u in units if u.window_id == window_id]
    return units


# The contracted values live in module dashboard_values (which builds on this one); their names stay reachable
# from here, resolved on first use so neither module needs the other half-loaded.
_VALUES = ("contract_status", "contracted_rows", "contracted_totals", "contracted_units", "payment_label")


def __getattr__(name):
    if name in _VALUES:
        from portal.personalize.services import dashboard_values
        return getattr(dashboard_values, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
