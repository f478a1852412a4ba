"""The one place that decides which rows a user may see.

Every list, board, search, export, report and API starts from `scoped(user, Model)`;
a record outside it is a 404 via `get_scoped_or_404`. Models say how they are owned with
`__scope__`:
  ("owner", "owner_id", ...)      sales/CS records: owner columns (any of them matches)
  ("development", "development_id") reference data tied to a development
  ("unit", "unit_id")              records of one unit (buyers see only their own)
  ("user",)                        users themselves
"""
from flask import abort
from sqlalchemy import and_, false, or_, select, true

from portal import normalize
from portal.accounts.models import Team, User
from portal.extensions import db

LEADER_ROLES = ("manager", "cs_leader")


def team_subtree_ids(manager_id: int):
    """Select of the ids of the teams a user manages and all their sub-teams."""
    base = select(Team.id).where(Team.manager_id == manager_id).cte("subtree", recursive=True)
    child = select(Team.id).join(base, Team.parent_id == base.c.id)
    tree = base.union(child)
    return select(tree.c.id)


def visible_user_ids(user: User):
    """Select of the user ids whose records `user` may see (admin: None = everyone)."""
    if user.role == "admin":
        return None
    if user.role in LEADER_ROLES:
        return select(User.id).where(or_(User.team_id.in_(team_subtree_ids(user.id)), User.id == user.id))
    return select(User.id).where(User.id == user.id)


def _staff_development_ids(user: User):
    from portal.realestate.models import development_staff
    return select(development_staff.c.development_id).where(development_staff.c.user_id == user.id)


def _customer_unit_ids(user: User):
    from portal.realestate.models import UnitBuyer
    return select(UnitBuyer.unit_id).where(UnitBuyer.user_id == user.id)


def _customer_development_ids(user: User):
    from portal.realestate.models import Unit
    return select(Unit.development_id).where(Unit.id.in_(_customer_unit_ids(user)))


def criteria(user: User, model):
    """A WHERE clause limiting `model` to what `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if user.role == "admin":
        return true()
    kind, *cols = model.__scope__
    if kind == "owner":
        if user.role in ("customer", "personalization"):
            return false()
        ids = visible_user_ids(user)
        owned = or_(*[getattr(model, c).in_(ids) for c in cols])
        if user.role in LEADER_ROLES:
            # Records nobody owns yet (a lead waiting in an online queue) are watched by the leaders.
            return or_(owned, and_(*[getattr(model, c).is_(None) for c in cols]))
        return owned
    if kind == "development":
        col = getattr(model, cols[0])
        if user.role == "personalization":
            return col.in_(_staff_development_ids(user))
        if user.role == "customer":
            return col.in_(_customer_development_ids(user))
        return true()
    if kind == "unit":
        from portal.realestate.models import Unit
        col = getattr(model, cols[0])
        if user.role == "customer":
            return col.in_(_customer_unit_ids(user))
        if user.role == "personalization":
            return col.in_(select(Unit.id).where(Unit.development_id.in_(_staff_development_ids(user))))
        return true()
    if kind == "user":
        ids = visible_user_ids(user)
        return model.id.in_(ids)
    raise ValueError(f"unknown scope kind {kind!r} on {model.__name__}")


def scoped(user: User, model, *columns):
    """`select(model)` already limited to the caller's scope."""
    stmt = select(*columns) if columns else select(model)
    return stmt.where(criteria(user, model))


def get_scoped_or_404(user: User, model, pk):
    if normalize.row_id(pk) is None:  # '²', '١' or past INTEGER: no row, and the driver may overflow
        abort(404)
    row = db.session.execute(scoped(user, model).where(model.id == pk)).scalar_one_or_none()
    if row is None:
        abort(404)
    return row


def can_see(user: User, obj) -> bool:
    model = type(obj)
    stmt = select(model.id).where(model.id == obj.id, criteria(user, model))
    return db.session.execute(stmt).first() is not None
