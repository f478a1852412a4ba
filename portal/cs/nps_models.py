"""NPS answers and churn records. NPS: one row per answered survey link (the link's nonce is unique, so a link answers once).
Segment and CSM are copied at answer time so NPS per segment/CSM keeps the picture of that moment."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class NpsResponse(db.Model):
    __tablename__ = "cs_nps_responses"
    __scope__ = ("owner", "csm_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"), index=True)
    csm_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    segment: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    response_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    action_plan: Mapped[str] = mapped_column(Text, default="", server_default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("Account")
    csm = relationship("User", foreign_keys=[csm_id])
    task = relationship("Task")

    @property
    def category(self) -> str:
        return category(self.score)

    @property
    def is_detractor(self) -> bool:
        return self.score <= 6


def category(score: int) -> str:
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


CHURN_KINDS = {"cancellation": "Cancelamento", "non_renewal": "Não renovação", "downgrade": "Downgrade"}
LOGO_KINDS = ("cancellation", "non_renewal")  # the account is gone; a downgrade only loses revenue


class ChurnReason(db.Model):
    """The churn taxonomy (seeded from the CS seed; leaders rename, add or retire reasons)."""
    __tablename__ = "cs_churn_reasons"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name


class Churn(db.Model):
    """A cancellation, non-renewal or downgrade with the MRR it lost and its autopsy."""
    __tablename__ = "cs_churns"
    __scope__ = ("owner", "csm_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    churn_date: Mapped[date] = mapped_column(Date, index=True)
    mrr_lost_cents: Mapped[int] = mapped_column(BigInteger)
    reason_id: Mapped[int] = mapped_column(ForeignKey("cs_churn_reasons.id"))
    csm_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    segment: Mapped[str] = mapped_column(String(20))
    what_happened: Mapped[str] = mapped_column(Text, default="", server_default="")
    signals: Mapped[str] = mapped_column(Text, default="", server_default="")
    changes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account = relationship("Account")
    reason = relationship(ChurnReason)
    csm = relationship("User", foreign_keys=[csm_id])

    @property
    def kind_label(self) -> str:
        return CHURN_KINDS.get(self.kind, self.kind)
