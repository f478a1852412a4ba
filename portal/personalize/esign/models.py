"""Signature envelopes (one contract sent for signature through one provider) and their signers.

At most one envelope per selection is valid (open or signed) — a partial unique index guarantees it,
so two staff pressing "enviar" at once cannot leave two valid contracts for a unit.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

ENVELOPE_STATUSES = {"draft": "Rascunho", "sent": "Enviado para assinatura", "partial": "Parcialmente assinado",
                     "signed": "Assinado", "refused": "Recusado", "expired": "Expirado", "cancelled": "Cancelado"}
OPEN_STATUSES = ("draft", "sent", "partial")
VALID_STATUSES = OPEN_STATUSES + ("signed",)
SIGNER_STATUSES = {"pending": "Pendente", "signed": "Assinou", "refused": "Recusou"}
_VALID_SQL = text("status IN ('draft', 'sent', 'partial', 'signed')")


class Envelope(db.Model):
    __tablename__ = "signature_envelopes"
    __scope__ = ("development", "development_id")
    __table_args__ = (Index("uq_signature_envelopes_valid_selection", "selection_id", unique=True,
                            sqlite_where=_VALID_SQL, postgresql_where=_VALID_SQL),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id", ondelete="CASCADE"), index=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20), default="builtin")
    external_id: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    status_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_file_path: Mapped[str | None] = mapped_column(String(255))
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contract = relationship("Contract")
    selection = relationship("Selection")
    signers: Mapped[list["Signer"]] = relationship(back_populates="envelope", order_by="Signer.position",
                                                   cascade="all, delete-orphan")

    @property
    def status_label(self):
        return ENVELOPE_STATUSES.get(self.status, self.status)

    @property
    def survey_link(self) -> str:
        """The satisfaction survey link (rule field; issued once the envelope is signed)."""
        from portal.personalize.services.surveys import link_for_envelope
        return link_for_envelope(self)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def next_signer(self):
        """Buyers sign in any order; staff sign last, once every buyer has signed."""
        pending = [s for s in self.signers if s.status == "pending"]
        buyers = [s for s in pending if s.role == "buyer"]
        return (buyers or pending or [None])[0]


class Signer(db.Model):
    __tablename__ = "signature_signers"
    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("signature_envelopes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(10))  # buyer | staff
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    cpf: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    external_id: Mapped[str | None] = mapped_column(String(100), index=True)
    sign_url: Mapped[str | None] = mapped_column(String(500))
    # built-in provider: one-time code and the evidence of the signature
    otp_hash: Mapped[str | None] = mapped_column(String(255))
    otp_channel: Mapped[str | None] = mapped_column(String(10))
    otp_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    otp_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    refusal_reason: Mapped[str | None] = mapped_column(String(255))

    envelope: Mapped[Envelope] = relationship(back_populates="signers")
    user = relationship("User")

    @property
    def status_label(self):
        return SIGNER_STATUSES.get(self.status, self.status)
