"""MRR movements that are not churn, for gross and net revenue retention.

Churn records (portal/cs/nps_models.py) already hold the revenue an account loses: cancellations and
non-renewals (churned MRR) and downgrades (contraction MRR, with a reason and an autopsy). What was missing
is revenue an account *gains*: an `MrrChange` of kind "expansion" sits next to the churn records. It is
written two ways, so the figures never depend on someone remembering a second form:

- explicitly, from the account page ("Registrar expansão": new MRR, date, note — it can be backdated);
- automatically, whenever an existing account's `mrr_cents` goes up (edit form, CSV import, API): a
  flush hook records the difference, dated today (source "account").

A decrease is not recorded here: losing revenue is a downgrade and is recorded as churn with its reason.
The one exception is a same-day correction (a typo fixed minutes later): a decrease first cancels the
expansions recorded automatically for that account today, so a slip never inflates the NRR.
"""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.cs.models import Account, local_today
from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

MRR_CHANGE_KINDS = {"expansion": "Expansão"}
SOURCES = {"manual": "Registrada na conta", "account": "Alteração do MRR da conta"}


class MrrChange(db.Model):
    __tablename__ = "cs_mrr_changes"
    __scope__ = ("owner", "csm_id")
    __table_args__ = (Index("ix_cs_mrr_changes_account_id", "account_id", "change_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="expansion")
    change_date: Mapped[date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    mrr_before_cents: Mapped[int] = mapped_column(BigInteger)
    mrr_after_cents: Mapped[int] = mapped_column(BigInteger)
    csm_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    segment: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="manual")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account = relationship(Account)
    csm = relationship("User", foreign_keys=[csm_id])

    @property
    def kind_label(self) -> str:
        return MRR_CHANGE_KINDS.get(self.kind, self.kind)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)


def mark_recorded(account: Account, new_mrr_cents: int) -> None:
    """The caller records this MRR change itself (with its own date and note): the flush hook skips it."""
    account._mrr_change_recorded = new_mrr_cents


# The old value must be at hand at flush time even when the attribute was expired before it was set.
@event.listens_for(Account.mrr_cents, "set", active_history=True)
def _keep_previous_mrr(target, value, oldvalue, initiator):
    return value


@event.listens_for(Session, "before_flush")
def _record_mrr_changes(session, flush_context, instances):
    for account in [obj for obj in session.dirty if isinstance(obj, Account)]:
        if account.id is None:
            continue
        history = inspect(account).attrs.mrr_cents.history
        if not history.deleted or not history.added:
            continue
        old, new = history.deleted[0], history.added[0]
        if old is None or new is None or old == new:
            continue
        if account.__dict__.pop("_mrr_change_recorded", None) == new:
            continue
        if new > old:
            session.add(MrrChange(account_id=account.id, kind="expansion", change_date=local_today(),
                                  amount_cents=new - old, mrr_before_cents=old, mrr_after_cents=new,
                                  csm_id=account.csm_id, segment=account.segment, source="account", note=""))
        else:
            _cancel_todays_expansions(session, account, old - new)


def _cancel_todays_expansions(session, account: Account, amount: int) -> None:
    today = local_today()
    pending = [obj for obj in session.new if isinstance(obj, MrrChange) and obj.account_id == account.id
               and obj.source == "account" and obj.change_date == today]
    with session.no_autoflush:
        stored = session.execute(select(MrrChange).where(
            MrrChange.account_id == account.id, MrrChange.source == "account", MrrChange.kind == "expansion",
            MrrChange.change_date == today).order_by(MrrChange.id.desc())).scalars().all()
    for change in [*reversed(pending), *stored]:
        if amount <= 0:
            break
        taken = min(amount, change.amount_cents)
        change.amount_cents -= taken
        change.mrr_after_cents -= taken
        amount -= taken
        if change.amount_cents == 0:
            if change in pending:
                session.expunge(change)
            else:
                session.delete(change)
