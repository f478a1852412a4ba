"""Read models for the staff pages (already scoped by the caller's development or unit scope)."""
from dataclasses import dataclass

from sqlalchemy import func, literal_column, or_, select

from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.personalize.models import SELECTION_STATUSES, BuyerProfile, PersonalizationWindow, Selection
from portal.realestate.models import Development, Tower, Typology, Unit, UnitBuyer

PER_PAGE = 50


def status_expr():
    """A unit with no selection row yet is "not started"."""
    return func.coalesce(Selection.status, literal_column("'not_started'"))  # one literal: PostgreSQL GROUP BY


def status_counts(development_ids) -> dict[int, dict[str, int]]:
    rows = db.session.execute(
        select(Unit.development_id, status_expr(), func.count(Unit.id))
        .outerjoin(Selection, Selection.unit_id == Unit.id)
        .where(Unit.development_id.in_(development_ids or [0]))
        .group_by(Unit.development_id, status_expr())).all()
    out: dict[int, dict[str, int]] = {d: dict.fromkeys(SELECTION_STATUSES, 0) for d in development_ids}
    for dev_id, status, count in rows:
        out[dev_id][status] = count
    return out


def development_cards(user) -> list[dict]:
    developments = db.session.execute(scoped(user, Development).order_by(Development.name)).scalars().all()
    ids = [d.id for d in developments]
    counts = status_counts(ids)
    buyers = dict(db.session.execute(
        select(Unit.development_id, func.count(func.distinct(UnitBuyer.user_id)))
        .join(UnitBuyer, UnitBuyer.unit_id == Unit.id).where(Unit.development_id.in_(ids or [0]))
        .group_by(Unit.development_id)).all())
    windows = {}
    for w in db.session.execute(select(PersonalizationWindow).where(PersonalizationWindow.development_id.in_(ids or [0]))
                                .order_by(PersonalizationWindow.opens_at)).scalars():
        windows.setdefault(w.development_id, []).append(w)
    return [{"development": d, "counts": counts[d.id], "units": sum(counts[d.id].values()),
             "buyers": buyers.get(d.id, 0), "windows": windows.get(d.id, [])} for d in developments]


@dataclass
class UnitRow:
    unit: Unit
    tower: str
    typology: str | None
    selection: Selection | None
    buyers: list

    @property
    def status(self):
        return self.selection.status if self.selection else "not_started"

    @property
    def status_label(self):
        return SELECTION_STATUSES[self.status]


def unit_rows(development: Development, status: str | None = None, tower_id: int | None = None,
              q: str | None = None, page: int = 1):
    stmt = (select(Unit, Tower.name, Typology.name, Selection).join(Tower, Tower.id == Unit.tower_id)
            .outerjoin(Typology, Typology.id == Unit.typology_id)
            .outerjoin(Selection, Selection.unit_id == Unit.id)
            .where(Unit.development_id == development.id))
    if status in SELECTION_STATUSES:
        stmt = stmt.where(status_expr() == status)
    if tower_id:
        stmt = stmt.where(Unit.tower_id == tower_id)
    if q:
        like = f"%{q.strip().lower()}%"
        buyer_match = select(UnitBuyer.unit_id).join(User, User.id == UnitBuyer.user_id).where(
            or_(func.lower(User.name).like(like), User.email.like(like)))
        stmt = stmt.where(or_(func.lower(Unit.number).like(like), Unit.id.in_(buyer_match)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, page)
    rows = db.session.execute(stmt.order_by(Tower.name, Unit.floor, Unit.number)
                              .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    unit_ids = [r[0].id for r in rows]
    buyers: dict[int, list] = {}
    for unit_id, user in db.session.execute(select(UnitBuyer.unit_id, User).join(User, User.id == UnitBuyer.user_id)
                                            .where(UnitBuyer.unit_id.in_(unit_ids or [0])).order_by(User.name)):
        buyers.setdefault(unit_id, []).append(user)
    items = [UnitRow(u, t, ty, s, buyers.get(u.id, [])) for u, t, ty, s in rows]
    return Pager(items, page, total)


@dataclass
class Pager:
    items: list
    page: int
    total: int
    per_page: int = PER_PAGE

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


def visible_unit_ids(user):
    return scoped(user, Unit, Unit.id)


def buyer_query(user, development_id: int | None = None, q: str | None = None):
    """Buyers the user may see: customers linked to a unit in their scope."""
    units = visible_unit_ids(user)
    if development_id:
        units = units.where(Unit.development_id == development_id)
    stmt = select(User).where(User.role == "customer",
                              User.id.in_(select(UnitBuyer.user_id).where(UnitBuyer.unit_id.in_(units))))
    if q:
        like = f"%{q.strip().lower()}%"
        digits = "".join(ch for ch in q if ch.isdigit())
        conds = [func.lower(User.name).like(like), User.email.like(like)]
        if len(digits) >= 4:
            conds += [User.cpf.like(f"%{digits}%"), User.phone.like(f"%{digits}%")]
        stmt = stmt.where(or_(*conds))
    return stmt


def buyer_page(user, development_id=None, q=None, page: int = 1):
    stmt = buyer_query(user, development_id, q)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, page)
    users = db.session.execute(stmt.order_by(User.name).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).scalars().all()
    ids = [u.id for u in users]
    units: dict[int, list] = {}
    for user_id, unit in db.session.execute(
            select(UnitBuyer.user_id, Unit).join(Unit, Unit.id == UnitBuyer.unit_id)
            .where(UnitBuyer.user_id.in_(ids or [0]), Unit.id.in_(visible_unit_ids(user)))):
        units.setdefault(user_id, []).append(unit)
    profiles = {p.user_id: p for p in db.session.execute(select(BuyerProfile).where(
        BuyerProfile.user_id.in_(ids or [0]))).scalars()}
    return Pager([(u, units.get(u.id, []), profiles.get(u.id)) for u in users], page, total)


EXPORT_COLUMNS = ["Nome", "E-mail", "Telefone", "CPF", "Empreendimento", "Torre", "Unidade", "Personalização",
                  "Total escolhido (R$)", "Convidado em", "Último acesso"]


def export_rows(user, development_id=None, fields=()):
    """One row per buyer and unit, scoped like the screen; money and dates as Excel in pt-BR reads them."""
    from portal.personalize.services.common import money_text
    from portal.web.filters import datetime_br

    units = visible_unit_ids(user)
    if development_id:
        units = units.where(Unit.development_id == development_id)
    stmt = (select(User, Unit, Tower.name, Development.name, Selection, BuyerProfile)
            .join(UnitBuyer, UnitBuyer.user_id == User.id).join(Unit, Unit.id == UnitBuyer.unit_id)
            .join(Tower, Tower.id == Unit.tower_id).join(Development, Development.id == Unit.development_id)
            .outerjoin(Selection, Selection.unit_id == Unit.id)
            .outerjoin(BuyerProfile, BuyerProfile.user_id == User.id)
            .where(User.role == "customer", Unit.id.in_(units))
            .order_by(Development.name, Tower.name, Unit.number, User.name))
    for u, unit, tower, dev, selection, profile in db.session.execute(stmt):
        status = selection.status if selection else "not_started"
        values = (profile.values if profile else None) or {}
        yield [u.name, u.email, u.phone or "", u.cpf or "", dev, tower, unit.number, SELECTION_STATUSES[status],
               money_text(selection.total_cents if selection else 0),
               datetime_br(profile.invited_at) if profile and profile.invited_at else "",
               datetime_br(u.last_login_at) if u.last_login_at else ""] + [values.get(f.key, "") for f in fields]
