"""Gap-tolerant, race-free counters (lead numbers, contract numbers...): one row per name,
incremented with a single UPDATE so concurrent transactions queue on the row lock."""
from sqlalchemy import String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Counter(db.Model):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_value(name: str) -> int:
    for _ in range(2):
        result = db.session.execute(update(Counter).where(Counter.name == name)
                                    .values(value=Counter.value + 1).returning(Counter.value)).scalar()
        if result is not None:
            return result
        try:
            with db.session.begin_nested():
                db.session.add(Counter(name=name, value=0))
        except IntegrityError:
            pass  # created concurrently: the UPDATE above now finds it
    return db.session.execute(select(Counter.value).where(Counter.name == name)).scalar_one()
