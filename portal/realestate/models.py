from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import TimestampMixin
from portal.extensions import db

DEVELOPMENT_STATUSES = {"launch": "Lançamento", "construction": "Em obras", "delivered": "Entregue"}
UNIT_STATUSES = {"available": "Disponível", "reserved": "Reservada", "sold": "Vendida"}

# Personalization staff work on the developments they are assigned to.
development_staff = Table(
    "development_staff",
    db.metadata,
    Column("development_id", ForeignKey("developments.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Development(TimestampMixin, db.Model):
    __tablename__ = "developments"
    __scope__ = ("development", "id")
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default="launch")
    logo_path: Mapped[str | None] = mapped_column(String(255))

    towers: Mapped[list["Tower"]] = relationship(back_populates="development", order_by="Tower.name",
                                                 cascade="all, delete-orphan")
    typologies: Mapped[list["Typology"]] = relationship(back_populates="development", order_by="Typology.name",
                                                        cascade="all, delete-orphan")
    staff = relationship("User", secondary=development_staff)

    @property
    def status_label(self):
        return DEVELOPMENT_STATUSES.get(self.status, self.status)

    def __str__(self):
        return self.name


class Tower(TimestampMixin, db.Model):
    __tablename__ = "towers"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("development_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    development: Mapped[Development] = relationship(back_populates="towers")
    units: Mapped[list["Unit"]] = relationship(back_populates="tower", order_by="Unit.number",
                                               cascade="all, delete-orphan")

    def __str__(self):
        return self.name


class Typology(TimestampMixin, db.Model):
    __tablename__ = "typologies"
    __scope__ = ("development", "development_id")
    __table_args__ = (UniqueConstraint("development_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    bedrooms: Mapped[int] = mapped_column(default=0)
    private_area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))

    development: Mapped[Development] = relationship(back_populates="typologies")

    def __str__(self):
        return self.name


class Unit(TimestampMixin, db.Model):
    __tablename__ = "units"
    __scope__ = ("unit", "id")
    __table_args__ = (UniqueConstraint("tower_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id", ondelete="CASCADE"), index=True)
    tower_id: Mapped[int] = mapped_column(ForeignKey("towers.id", ondelete="CASCADE"), index=True)
    typology_id: Mapped[int | None] = mapped_column(ForeignKey("typologies.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    floor: Mapped[int] = mapped_column(default=0)
    private_area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="available")

    development: Mapped[Development] = relationship()
    tower: Mapped[Tower] = relationship(back_populates="units")
    typology: Mapped[Typology | None] = relationship()
    buyers = relationship("User", secondary="unit_buyers", order_by="User.name")

    @property
    def status_label(self):
        return UNIT_STATUSES.get(self.status, self.status)

    @property
    def label(self):
        return f"{self.tower.name} · {self.number}"

    def __str__(self):
        return f"{self.development.name} — {self.label}"


class UnitBuyer(db.Model):
    """A buyer (customer user) of a unit; co-buyers are several rows for one unit."""
    __tablename__ = "unit_buyers"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
