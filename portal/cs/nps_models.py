"""NPS answers: one row per answered survey link (the link's nonce is unique, so a link answers once).
Segment and CSM are copied at answer time so NPS per segment/CSM keeps the picture of that moment."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
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
