"""NPS answers and churn records. NPS: one row per answered survey link (the link's nonce is unique, so a link answers once).
Segment and CSM are copied at answer time so NPS per segment/CSM keeps the picture of that moment."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


# The account's products at answer time (NPS per product keeps the picture of that moment, like segment/CSM).
nps_response_products = Table(
    "cs_nps_response_products", db.metadata,
    Column("response_id", ForeignKey("cs_nps_responses.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("cs_products.id", ondelete="CASCADE"), primary_key=True, index=True),
)
# Topics the CSM tagged on a detractor's or passive's comment.
nps_response_topics = Table(
    "cs_nps_response_topics", db.metadata,
    Column("response_id", ForeignKey("cs_nps_responses.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("cs_nps_topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class NpsTopic(db.Model):
    """A topic of negative comments (suporte, preço, …): leaders rename, add or retire them."""
    __tablename__ = "cs_nps_topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name


class NpsSurvey(db.Model):
    """One survey sent (a signed link's nonce): pending until answered. Rules create it when they render
    `account.nps_link`; the cadence ("not again within N days") reads the latest one."""
    __tablename__ = "cs_nps_surveys"
    __table_args__ = (Index("ix_cs_nps_surveys_account_sent", "account_id", "sent_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("cs_nps_responses.id", ondelete="SET NULL"))

    account = relationship("Account")


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
    products = relationship("Product", secondary=nps_response_products, order_by="Product.name")
    topics = relationship(NpsTopic, secondary=nps_response_topics, order_by=NpsTopic.name)

    @property
    def taggable(self) -> bool:
        """Detractors and passives carry the negative topics; promoters are not tagged."""
        return self.score <= 8

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
