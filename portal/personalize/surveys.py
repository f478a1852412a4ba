"""Satisfaction survey after signature: one row per signed envelope and buyer, made when a rule first
renders the rule field `envelope.survey_link`; answered once (1–5 and a comment) through a signed link."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db
from portal.surveys import SCORES


class SatisfactionSurvey(db.Model):
    __tablename__ = "satisfaction_surveys"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("envelope_id", "user_id"),
                      CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_satisfaction_score"))
    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("signature_envelopes.id", ondelete="CASCADE"))
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(255))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    envelope = relationship("Envelope")
    unit = relationship("Unit")
    user = relationship("User")

    @property
    def score_label(self) -> str:
        return SCORES.get(self.score, "")
