"""A unit link waiting for the buyer's consent: staff typed the e-mail of a customer who already has an account
and is not (yet) a buyer in their developments. Until the buyer accepts, no `unit_buyers` row exists, so the
buyer's name, CPF, phone and other units stay outside the staff member's scope; staff see only the e-mail
they typed."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class LinkRequest(db.Model):
    __tablename__ = "buyer_link_requests"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # as staff typed it: all they may see until accepted
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit = relationship("Unit")
    user = relationship("User", foreign_keys=[user_id])
    requested_by = relationship("User", foreign_keys=[requested_by_id])

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None
