"""Product-migration playbooks (legacy product → its successor), from the legacy-migration seed.

A migration walks the seed's seven steps in order; each completed step is one row with its owner, date and
notes. The account may keep the legacy price for the components it already had (new components follow the
successor's current table), and may run both products side by side until an agreed end date, each under its
own entity id (the same entity id cannot reach both products)."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

STEPS = {
    "negotiation": "Negociação",
    "swap": "Troca de produto registrada",
    "commercial": "Fluxo comercial",
    "credentials": "Credenciais (teste e produção)",
    "go_live": "Go-live na nova plataforma",
    "logins": "Logins na interface",
    "shutdown": "Desligamento do legado",
}
STEP_HINTS = {
    "negotiation": "CSM e pré-vendas apresentam o novo produto; a documentação de integração pode ir por e-mail.",
    "swap": "Com o aceite, registrar a troca de produto (não uma venda adicional) e avisar que haverá novo ID de entidade.",
    "commercial": "A oportunidade segue o fluxo comercial de troca de produto; novo contrato e nova precificação.",
    "credentials": "Criação das credenciais de homologação (teste) e produção para o novo ID de entidade.",
    "go_live": "Cliente integrado e em produção na nova plataforma; grandes contas: liberar o faturamento.",
    "logins": "Logins da interface web solicitados ao suporte com o novo ID; avanço de produção registrado.",
    "shutdown": "Pedir ao suporte o desligamento da interface e da API do legado e encerrar a oportunidade antiga.",
}
DONE = "done"
STEP_COLORS = ["#0ea5e9", "#6366f1", "#8b5cf6", "#a855f7", "#16a34a", "#0d9488", "#f59e0b"]
# The seed's approach per touch model (Tech Touch/Inside, Farmer - Mid Touch/Field, Private - High Touch).
APPROACHES = {
    "tech": "Comunicação massificada: aviso de descontinuidade e manutenção de preço dos componentes usados",
    "mid": "Contato mais próximo, apresentando valor agregado (mais componentes) e a manutenção de preço",
    "high": "Negociação individual",
}
STATUSES = {"active": "Em andamento", "done": "Concluída"}


class ProductComponent(db.Model):
    """A priced module of a product (the current table: price per transaction, in centavos)."""
    __tablename__ = "cs_product_components"
    __table_args__ = (UniqueConstraint("product_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cs_products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class Migration(TimestampMixin, db.Model):
    """One account's move from a legacy product to its successor (one per account and legacy product)."""
    __tablename__ = "cs_migrations"
    __table_args__ = (UniqueConstraint("account_id", "legacy_product_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"), index=True)
    legacy_product_id: Mapped[int] = mapped_column(ForeignKey("cs_products.id", ondelete="CASCADE"), index=True)
    new_product_id: Mapped[int] = mapped_column(ForeignKey("cs_products.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="active")
    step: Mapped[str] = mapped_column(String(20), default="negotiation")  # the step in progress, or "done"
    step_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    legacy_entity_id: Mapped[str] = mapped_column(String(40), default="")
    new_entity_id: Mapped[str] = mapped_column(String(40), default="")
    parallel_until: Mapped[date | None] = mapped_column(Date)  # both products may run until this day
    legacy_shutdown_on: Mapped[date | None] = mapped_column(Date)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")

    account = relationship("Account")
    legacy_product = relationship("Product", foreign_keys=[legacy_product_id])
    new_product = relationship("Product", foreign_keys=[new_product_id])
    started_by = relationship("User")
    steps: Mapped[list["MigrationStep"]] = relationship(back_populates="migration", order_by="MigrationStep.id",
                                                        cascade="all, delete-orphan")
    components: Mapped[list["MigrationComponent"]] = relationship(
        back_populates="migration", order_by="MigrationComponent.name", cascade="all, delete-orphan")

    @property
    def step_label(self) -> str:
        return "Concluída" if self.step == DONE else STEPS.get(self.step, self.step)

    @property
    def step_index(self) -> int:
        return len(STEPS) if self.step == DONE else list(STEPS).index(self.step)

    @property
    def legacy_running(self) -> bool:
        return self.legacy_shutdown_on is None

    def days_in_step(self, today: date) -> int:
        """Whole days on the local (São Paulo) calendar since the step began; `today` is the local date."""
        from portal.cs.models import local_tz
        return (today - self.step_since.astimezone(local_tz()).date()).days

    def both_after_end(self, today: date) -> bool:
        """Still on both products after the agreed end of the parallel period (the plan flags it)."""
        return self.parallel_until is not None and today > self.parallel_until and self.legacy_running



class MigrationStep(db.Model):
    """A completed step: who owned it, the day it happened and what was agreed."""
    __tablename__ = "cs_migration_steps"
    __table_args__ = (UniqueConstraint("migration_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    migration_id: Mapped[int] = mapped_column(ForeignKey("cs_migrations.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    migration: Mapped[Migration] = relationship(back_populates="steps")
    owner = relationship("User", foreign_keys=[owner_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])

    @property
    def label(self) -> str:
        return STEPS.get(self.step, self.step)


class MigrationComponent(db.Model):
    """A component in the migrated contract: kept at the legacy price it already had, or new at the table."""
    __tablename__ = "cs_migration_components"
    __table_args__ = (UniqueConstraint("migration_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    migration_id: Mapped[int] = mapped_column(ForeignKey("cs_migrations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kept: Mapped[bool] = mapped_column(default=False)          # the account had it on the legacy product
    legacy_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    table_price_cents: Mapped[int | None] = mapped_column(BigInteger)  # the successor's table when recorded

    migration: Mapped[Migration] = relationship(back_populates="components")

    @property
    def price_cents(self) -> int:
        return (self.legacy_price_cents if self.kept else self.table_price_cents) or 0
