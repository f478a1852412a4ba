"""Contract tables: versioned templates per development, and the contracts rendered from a selection.

A template is never edited in place: saving makes a new version, so a contract always points at the
exact text it was rendered from. A contract stores its PDF (relative to CONTRACTS_DIR) and SHA-256.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

CONTRACT_STATUSES = {"queued": "Na fila", "rendered": "Gerado", "failed": "Falhou", "superseded": "Substituído"}
PAYMENT_METHODS = {"boleto": "Boleto", "cartao": "Cartão de crédito", "pix": "PIX",
                   "financiado": "Financiado junto à parcela"}


class ContractTemplate(db.Model):
    """One version of a development's contract text (HTML with Jinja placeholders)."""
    __tablename__ = "contract_templates"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("development_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by = relationship("User")


class Contract(db.Model):
    """A selection's contract PDF. Only the newest one of a selection is current (older: superseded)."""
    __tablename__ = "contracts"
    __scope__ = ("development", "development_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id", ondelete="CASCADE"), index=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("contract_templates.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    selection_revision: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    payment_method: Mapped[str | None] = mapped_column(String(12))
    installments: Mapped[int | None] = mapped_column()
    file_path: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    selection = relationship("Selection")
    template: Mapped[ContractTemplate | None] = relationship()

    @property
    def status_label(self):
        return CONTRACT_STATUSES.get(self.status, self.status)


class PaymentChoice(db.Model):
    """The buyer's chosen payment method for a selection (shown in the contract; nothing is charged)."""
    __tablename__ = "payment_choices"
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(12))
    installments: Mapped[int] = mapped_column(default=1)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PaymentOption(db.Model):
    """A payment method a development accepts, with its most installments and instructions for the buyer.
    A development with none configured accepts every method (up to the default installments)."""
    __tablename__ = "payment_options"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("development_id", "method"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    max_installments: Mapped[int] = mapped_column(default=1)
    instructions: Mapped[str] = mapped_column(Text, default="")

    @property
    def label(self):
        return PAYMENT_METHODS.get(self.method, self.method)
