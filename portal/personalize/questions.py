"""Buyer questions: a small ticket thread per unit (subject, messages, attachments).

Status says whose turn it is: "open" waits for the staff, "answered" waits for the buyer, "closed" is done
(either side may reopen). Attachments are stored under the instance dir with a random name; the row keeps
`unit_id` so scope.py answers "who may download" like it does for the question itself.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

QUESTION_STATUSES = {"open": "Aguardando a equipe", "answered": "Respondida", "closed": "Encerrada"}
BUYER_STATUS_LABELS = {"open": "Aguardando resposta", "answered": "Respondida", "closed": "Encerrada"}


class BuyerQuestion(db.Model):
    __tablename__ = "buyer_questions"
    __scope__ = ("unit", "unit_id")
    __table_args__ = (Index("ix_buyer_questions_development_status", "development_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    messages_count: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit = relationship("Unit")
    opened_by = relationship("User", foreign_keys=[opened_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    messages: Mapped[list["QuestionMessage"]] = relationship(back_populates="question",
                                                             order_by="QuestionMessage.id",
                                                             cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return QUESTION_STATUSES.get(self.status, self.status)

    @property
    def buyer_status_label(self) -> str:
        return BUYER_STATUS_LABELS.get(self.status, self.status)

    @property
    def last_excerpt(self) -> str:
        """The newest message, shortened (for notifications and rule templates)."""
        last = self.messages[-1] if self.messages else None
        text = " ".join((last.body if last else "").split())
        return text if len(text) <= 160 else text[:157] + "…"

    def __str__(self):
        return self.subject


class QuestionMessage(db.Model):
    __tablename__ = "buyer_question_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("buyer_questions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_staff: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[BuyerQuestion] = relationship(back_populates="messages")
    author = relationship("User")
    attachments: Mapped[list["QuestionAttachment"]] = relationship(back_populates="message",
                                                                   order_by="QuestionAttachment.id",
                                                                   cascade="all, delete-orphan")


class QuestionAttachment(db.Model):
    __tablename__ = "buyer_question_attachments"
    __scope__ = ("unit", "unit_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("buyer_question_messages.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # random; never the uploader's name
    original_name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[QuestionMessage] = relationship(back_populates="attachments")

    @property
    def size_label(self) -> str:
        kb = self.size_bytes / 1024
        if kb < 1:
            return "< 1 KB"
        return f"{kb:.0f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB".replace(".", ",")
