"""The last slot each periodic job was enqueued for, kept in the database.

A Redis marker forgets its slot when Redis loses its data (a restart without persistence, FLUSHALL) and
the slot runs again; the database does not. The claim is a conditional UPDATE, or the INSERT that wins the
primary key, so two workers never both claim one slot.
"""
from datetime import datetime

from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime
from portal.extensions import db


class PeriodicRun(db.Model):
    __tablename__ = "periodic_runs"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_slot: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


def last_slots() -> dict[str, datetime]:
    """One read per tick, so a worker touches a row only when a job has a new slot."""
    return dict(db.session.execute(select(PeriodicRun.name, PeriodicRun.last_slot)).all())


def claim(name: str, slot: datetime) -> bool:
    """True for exactly one caller per (name, slot), in the caller's transaction.

    The updated or inserted row stays locked until the caller commits (or rolls back, which releases
    the slot), so a second worker waits and then finds the slot taken.
    """
    moved = db.session.execute(update(PeriodicRun).where(PeriodicRun.name == name, PeriodicRun.last_slot < slot)
                               .values(last_slot=slot).execution_options(synchronize_session=False))
    if moved.rowcount:
        return True
    try:
        with db.session.begin_nested():
            db.session.execute(insert(PeriodicRun).values(name=name, last_slot=slot))
    except IntegrityError:  # the row exists at this slot or later: another worker has it
        return False
    return True
