"""Personalization tables: the finish catalog, windows, each unit's selection, and buyer bookkeeping.

Catalog: Category → Item (a place in the unit; which typologies it applies to and how much of it each
has) → Option (what the buyer picks). An option's price is versioned in OptionPrice: a selection line
points at the version it was chosen with, so a later price change never rewrites a buyer's choice.

Selections: one per unit (co-buyers share it). Lines are unique per (selection, item), so two tabs
saving the same selection update one row instead of adding a second.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import JSONType, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

# How much of an item a unit has: the option's price is multiplied by this quantity.
BASES = {
    "unit": "Por peça",        # quantity = pieces per typology (2 bathrooms → 2 faucets)
    "area": "Por m²",          # quantity = the room's m² in that typology; price is per m²
    "fixed": "Valor fixo",     # quantity is always 1; price is the whole item
}
BASIS_HELP = {
    "unit": "O preço da opção é por peça; informe quantas peças cada tipologia tem.",
    "area": "O preço da opção é por m²; informe a área do ambiente em cada tipologia.",
    "fixed": "O preço da opção é o valor do item inteiro, igual para todas as tipologias.",
}

SELECTION_STATUSES = {"not_started": "Não iniciada", "draft": "Rascunho", "submitted": "Enviada",
                      "reopened": "Reaberta"}
EDITABLE_STATUSES = ("not_started", "draft", "reopened")

PROFILE_KINDS = {"text": "Texto", "choice": "Lista de opções", "number": "Número", "yesno": "Sim/Não"}


class Category(TimestampMixin, db.Model):
    """Piso, Pintura, Metais, Louças, Bancadas... per development."""
    __tablename__ = "finish_categories"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("development_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)

    items: Mapped[list["Item"]] = relationship(back_populates="category", order_by="[Item.position, Item.id]")

    def __str__(self):
        return self.name


class Item(TimestampMixin, db.Model):
    """A place in the unit that gets a finish: "Piso da sala", "Bancada da cozinha"."""
    __tablename__ = "finish_items"
    __scope__ = ("development", "development_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("finish_categories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(String(10), default="unit")
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship(back_populates="items")
    typology_links: Mapped[list["ItemTypology"]] = relationship(back_populates="item", cascade="all, delete-orphan")
    options: Mapped[list["Option"]] = relationship(back_populates="item", order_by="[Option.position, Option.id]")

    @property
    def basis_label(self):
        return BASES.get(self.basis, self.basis)

    def quantity_for(self, typology_id) -> Decimal | None:
        """How much of this item a unit of that typology has (None: the item does not apply)."""
        for link in self.typology_links:
            if link.typology_id == typology_id:
                return Decimal("1") if self.basis == "fixed" else link.quantity
        return None

    def __str__(self):
        return self.name


class ItemTypology(db.Model):
    """The item applies to this typology, with its quantity there (pieces or m²)."""
    __tablename__ = "finish_item_typologies"
    item_id: Mapped[int] = mapped_column(ForeignKey("finish_items.id", ondelete="CASCADE"), primary_key=True)
    typology_id: Mapped[int] = mapped_column(ForeignKey("typologies.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("1"))

    item: Mapped[Item] = relationship(back_populates="typology_links")
    typology = relationship("Typology")


class Option(TimestampMixin, db.Model):
    """A choice for an item: "Porcelanato 60x60 acetinado". `price_cents` mirrors the current version."""
    __tablename__ = "finish_options"
    __scope__ = ("development", "development_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("finish_items.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    manufacturer_url: Mapped[str] = mapped_column(String(500), default="")
    is_standard: Mapped[bool] = mapped_column(default=False)
    available: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    price_cents: Mapped[int] = mapped_column(default=0)
    price_version: Mapped[int] = mapped_column(default=1)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("finish_options.id"))

    item: Mapped[Item] = relationship(back_populates="options")
    photos: Mapped[list["OptionPhoto"]] = relationship(back_populates="option", order_by="OptionPhoto.id",
                                                       cascade="all, delete-orphan")
    replaced_by: Mapped["Option | None"] = relationship(remote_side=[id])

    @property
    def offered(self) -> bool:
        """Can be newly chosen (retired or unavailable options only stay on lines that have them)."""
        return self.retired_at is None and self.available

    def __str__(self):
        return self.name


class OptionPrice(db.Model):
    """One price an option had, from `created_at` on. Versions count up from 1 per option."""
    __tablename__ = "finish_option_prices"
    __table_args__ = (UniqueConstraint("option_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("finish_options.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    price_cents: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    option: Mapped[Option] = relationship()
    created_by = relationship("User")


class OptionPhoto(db.Model):
    """An uploaded photo; the thumbnail is made by a worker job (status pending → ready | failed)."""
    __tablename__ = "finish_option_photos"
    __scope__ = ("development", "development_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("finish_options.id", ondelete="CASCADE"), index=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # random; never the uploader's name
    original_name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    option: Mapped[Option] = relationship(back_populates="photos")


window_categories = Table(
    "window_categories",
    db.metadata,
    Column("window_id", ForeignKey("personalization_windows.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("finish_categories.id", ondelete="CASCADE"), primary_key=True),
)


class PersonalizationWindow(TimestampMixin, db.Model):
    """When buyers may choose; for a whole development or only one tower and/or typology.

    No categories listed means every category is open. `opened_event_at` / `closed_event_at` mark
    that the window.opened / window.closed events went out (claimed by a conditional UPDATE).
    """
    __tablename__ = "personalization_windows"
    __scope__ = ("development", "development_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    tower_id: Mapped[int | None] = mapped_column(ForeignKey("towers.id", ondelete="CASCADE"), index=True)
    typology_id: Mapped[int | None] = mapped_column(ForeignKey("typologies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    opened_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    development = relationship("Development")
    tower = relationship("Tower")
    typology = relationship("Typology")
    categories: Mapped[list[Category]] = relationship(secondary=window_categories, order_by="Category.position")

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def state(self, now: datetime) -> str:
        return "upcoming" if now < self.opens_at else "open" if now < self.closes_at else "closed"

    def covers(self, unit) -> bool:
        return (unit.development_id == self.development_id and self.tower_id in (None, unit.tower_id)
                and self.typology_id in (None, unit.typology_id))

    @property
    def specificity(self) -> int:
        return (self.tower_id is not None) + (self.typology_id is not None)

    @property
    def scope_label(self) -> str:
        parts = [self.tower.name if self.tower else None, self.typology.name if self.typology else None]
        return " · ".join(p for p in parts if p) or "Todo o empreendimento"

    def __str__(self):
        return self.name


class Selection(TimestampMixin, db.Model):
    """A unit's personalization: its lines, status and total. `revision` counts every change, so a
    submit can insist on the exact list the buyer confirmed."""
    __tablename__ = "selections"
    __scope__ = ("unit", "unit_id")
    __table_args__ = (Index("ix_selections_development_status", "development_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("personalization_windows.id", ondelete="SET NULL"),
                                                  index=True)
    status: Mapped[str] = mapped_column(String(12), default="not_started")
    revision: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reopen_reason: Mapped[str | None] = mapped_column(String(255))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit = relationship("Unit")
    window: Mapped[PersonalizationWindow | None] = relationship()
    lines: Mapped[list["SelectionLine"]] = relationship(back_populates="selection", cascade="all, delete-orphan")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reopened_by = relationship("User", foreign_keys=[reopened_by_id])
    last_activity_by = relationship("User", foreign_keys=[last_activity_by_id])

    @property
    def status_label(self):
        return SELECTION_STATUSES.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def deadline_label(self) -> str:
        """The window's deadline as people read it (for message templates)."""
        from portal.web.filters import datetime_br
        return datetime_br(self.window.closes_at) if self.window else ""

    @property
    def total_label(self) -> str:
        from portal.web.filters import brl
        return brl(self.total_cents)

    def __str__(self):
        return f"Personalização {self.unit}"


class SelectionLine(db.Model):
    """The option chosen for one item, frozen at the price version it was chosen with."""
    __tablename__ = "selection_lines"
    __table_args__ = (UniqueConstraint("selection_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("finish_items.id"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("finish_options.id"), index=True)
    option_price_id: Mapped[int] = mapped_column(ForeignKey("finish_option_prices.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price_cents: Mapped[int] = mapped_column()
    total_cents: Mapped[int] = mapped_column()
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    on_behalf: Mapped[bool] = mapped_column(default=False)  # staff chose it for the buyer

    selection: Mapped[Selection] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    option: Mapped[Option] = relationship()
    price: Mapped[OptionPrice] = relationship()


class BuyerKey(db.Model):
    """Anti-duplication held by the database: one buyer per normalized CPF and per phone
    ("cpf:52998224725", "phone:+5511987654321"); e-mail is already unique on users."""
    __tablename__ = "buyer_keys"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class BuyerProfileField(TimestampMixin, db.Model):
    """An extra field the company keeps about buyers, to classify them (renda, origem, perfil...)."""
    __tablename__ = "buyer_profile_fields"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10), default="text")
    choices: Mapped[list] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def kind_label(self):
        return PROFILE_KINDS.get(self.kind, self.kind)


class BuyerProfile(TimestampMixin, db.Model):
    """Per buyer: the extra field values and when the invitation went out."""
    __tablename__ = "buyer_profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    values: Mapped[dict] = mapped_column(JSONType, default=dict)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitations: Mapped[int] = mapped_column(Integer, default=0)

    user = relationship("User")
