"""Every change to developments, towers, typologies and units (forms, CSV import, demo and tests alike).

Field rules live in the small `parse_*` functions so the CSV importer checks cells with the same
code the forms go through. Names are unique per development regardless of case and accents, so
"Torre A" in a spreadsheet finds "torre a" instead of creating a twin.
"""
from decimal import Decimal

from sqlalchemy import func, select

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.extensions import db
from portal.realestate.models import DEVELOPMENT_STATUSES, UNIT_STATUSES, Development, Tower, Typology, Unit, UnitBuyer
from portal.web.csv_import import fold, parse_decimal

UFS = {"AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA", "PB", "PE", "PI", "PR",
       "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO"}
MAX_AREA = Decimal("99999999.99")  # Numeric(10, 2)


def slugify(text: str | None) -> str:
    return fold(text).replace("_", "-")[:80].strip("-")


# Field rules: each returns the clean value or raises ValueError with the message for people.
def parse_name(value, what: str, max_len: int) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValueError(f"Informe {what}.")
    if len(name) > max_len:
        raise ValueError(f"Use no máximo {max_len} caracteres.")
    return name


def parse_int(value, low: int, high: int, blank: int = 0) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        return blank
    try:
        number = int(text)
    except ValueError as exc:
        raise ValueError("Informe um número inteiro.") from exc
    if not low <= number <= high:
        raise ValueError(f"Informe um número entre {low} e {high}.")
    return number


def parse_area(value) -> Decimal:
    area = parse_decimal(value)
    if area < 0:
        raise ValueError("A área não pode ser negativa.")
    if area > MAX_AREA:
        raise ValueError("Área grande demais.")
    if area != area.quantize(Decimal("0.01")):
        raise ValueError("Use no máximo duas casas decimais.")
    return area.quantize(Decimal("0.01"))


def parse_unit_status(value) -> str:
    """A status key, or its pt-BR label ('Vendida', 'vendida', 'sold' → 'sold')."""
    wanted = fold(value)
    for key, label in UNIT_STATUSES.items():
        if wanted in (fold(key), fold(label)):
            return key
    raise ValueError("Situação inválida: use " + ", ".join(UNIT_STATUSES.values()) + ".")


def _field(errors: dict, name: str, parse, *args):
    try:
        return parse(*args)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _changed(obj, clean: dict) -> list[str]:
    changed = sorted(k for k, v in clean.items() if getattr(obj, k) != v)
    for key in changed:
        setattr(obj, key, clean[key])
    return changed


def _taken(model, development_id: int, name: str, existing) -> bool:
    rows = db.session.execute(select(model).where(model.development_id == development_id)).scalars()
    return any(fold(r.name) == fold(name) and r is not existing for r in rows)


# Developments
def save_development(data: dict, development: Development | None = None) -> Development:
    """Create or update; `staff_ids` (personalization users) is only touched when present in `data`."""
    errors: dict[str, str] = {}
    clean = {
        "name": _field(errors, "name", parse_name, data.get("name"), "o nome do empreendimento", 160),
        "slug": slugify(data.get("slug") or data.get("name")),
        "city": " ".join(str(data.get("city") or "").split())[:120],
        "state": str(data.get("state") or "").strip().upper(),
        "address": " ".join(str(data.get("address") or "").split())[:255],
        "status": data.get("status") or (development.status if development else "launch"),
    }
    if not clean["slug"]:
        errors.setdefault("slug", "Informe um código com letras ou números.")
    elif db.session.execute(select(Development.id).where(
            Development.slug == clean["slug"], Development.id != getattr(development, "id", None))).first():
        errors["slug"] = "Já existe um empreendimento com este código."
    if clean["state"] and clean["state"] not in UFS:
        errors["state"] = "UF inválida."
    if clean["status"] not in DEVELOPMENT_STATUSES:
        errors["status"] = "Escolha uma situação válida."
    staff = None
    if "staff_ids" in data:
        ids = {normalize.row_id(i) for i in data["staff_ids"] or []} - {None}
        staff = db.session.execute(select(User).where(User.id.in_(ids), User.role == "personalization")
                                   .order_by(User.name)).scalars().all()
        if len(staff) != len(ids) or len(ids) != len(data["staff_ids"] or []):
            errors["staff_ids"] = "Escolha pessoas da equipe de personalização."
    if errors:
        raise ServiceError(errors)
    created = development is None
    development = development or Development()
    changed = _changed(development, clean)
    if staff is not None and {u.id for u in development.staff} != {u.id for u in staff}:
        development.staff = staff
        changed.append("staff")
    db.session.add(development)
    db.session.flush()
    if created or changed:
        audit("development.created" if created else "development.updated", development, fields=changed)
    return development


def delete_development(development: Development) -> None:
    units = db.session.scalar(select(func.count(Unit.id)).where(Unit.development_id == development.id))
    if units:
        raise ServiceError({"development": f"O empreendimento tem {units} unidade(s). Exclua-as antes."})
    audit("development.deleted", development, name=development.name, slug=development.slug)
    db.session.delete(development)
    db.session.flush()


# Towers
def save_tower(development: Development, data: dict, tower: Tower | None = None, *, audited: bool = True) -> Tower:
    errors: dict[str, str] = {}
    name = _field(errors, "name", parse_name, data.get("name"), "o nome da torre", 80)
    if name and _taken(Tower, development.id, name, tower):
        errors["name"] = "Já existe uma torre com este nome."
    if errors:
        raise ServiceError(errors)
    created = tower is None
    tower = tower or Tower(development_id=development.id)
    changed = _changed(tower, {"name": name})
    db.session.add(tower)
    db.session.flush()
    if audited and (created or changed):
        audit("tower.created" if created else "tower.updated", tower, name=name, development_id=development.id)
    return tower


def delete_tower(tower: Tower) -> None:
    units = db.session.scalar(select(func.count(Unit.id)).where(Unit.tower_id == tower.id))
    if units:
        raise ServiceError({"name": f"A torre tem {units} unidade(s). Exclua ou mova as unidades antes."})
    audit("tower.deleted", tower, name=tower.name, development_id=tower.development_id)
    db.session.delete(tower)
    db.session.flush()


# Typologies
def save_typology(development: Development, data: dict, typology: Typology | None = None) -> Typology:
    errors: dict[str, str] = {}
    clean = {
        "name": _field(errors, "name", parse_name, data.get("name"), "o nome da tipologia", 80),
        "bedrooms": _field(errors, "bedrooms", parse_int, data.get("bedrooms"), 0, 20),
        "private_area_m2": _field(errors, "private_area_m2", parse_area, data.get("private_area_m2") or "0"),
    }
    if clean["name"] and _taken(Typology, development.id, clean["name"], typology):
        errors["name"] = "Já existe uma tipologia com este nome."
    if errors:
        raise ServiceError(errors)
    created = typology is None
    typology = typology or Typology(development_id=development.id)
    changed = _changed(typology, clean)
    db.session.add(typology)
    db.session.flush()
    if created or changed:
        audit("typology.created" if created else "typology.updated", typology, fields=changed)
    return typology


def delete_typology(typology: Typology) -> None:
    units = db.session.scalar(select(func.count(Unit.id)).where(Unit.typology_id == typology.id))
    if units:
        raise ServiceError({"name": f"{units} unidade(s) usam esta tipologia. Troque a tipologia delas antes."})
    audit("typology.deleted", typology, name=typology.name, development_id=typology.development_id)
    db.session.delete(typology)
    db.session.flush()


# Units
def _own(model, development: Development, value):
    """The `model` row with id `value` if it belongs to `development`, else None."""
    row = db.session.get(model, normalize.row_id(value) or 0)
    return row if row is not None and row.development_id == development.id else None


def save_unit(development: Development, data: dict, unit: Unit | None = None, *, audited: bool = True) -> Unit:
    """Create or update. A blank area takes the typology's; a blank status is 'available'.

    A status change publishes `unit.status_changed` (rules notify buyers, sales...) on every path,
    the CSV import included; `audited=False` only skips the per-unit audit entry.
    """
    errors: dict[str, str] = {}
    tower = _own(Tower, development, data.get("tower_id"))
    if tower is None:
        errors["tower_id"] = "Escolha uma torre deste empreendimento."
    typology = _own(Typology, development, data.get("typology_id"))
    if data.get("typology_id") and typology is None:
        errors["typology_id"] = "Escolha uma tipologia deste empreendimento."
    number = _field(errors, "number", parse_name, data.get("number"), "o número da unidade", 20)
    area = data.get("private_area_m2")
    if area is None or str(area).strip() == "":
        area = typology.private_area_m2 if typology else Decimal("0")
    clean = {
        "tower_id": getattr(tower, "id", None),
        "typology_id": getattr(typology, "id", None),
        "number": number,
        "floor": _field(errors, "floor", parse_int, data.get("floor"), -10, 300),
        "private_area_m2": _field(errors, "private_area_m2", parse_area, area),
        "status": _field(errors, "status", parse_unit_status, data.get("status") or "available"),
    }
    if tower is not None and number and db.session.execute(select(Unit.id).where(
            Unit.tower_id == tower.id, Unit.number == number, Unit.id != getattr(unit, "id", None))).first():
        errors["number"] = f"Já existe a unidade {number} na {tower.name}."
    if errors:
        raise ServiceError(errors)
    created = unit is None
    old_status = None if created else unit.status
    unit = unit or Unit(development_id=development.id)
    changed = _changed(unit, clean)
    db.session.add(unit)
    db.session.flush()
    if audited and (created or changed):
        details = {"fields": changed}
        if "status" in changed and not created:
            details["status"] = [old_status, unit.status]
        audit("unit.created" if created else "unit.updated", unit, **details)
    if not created and "status" in changed:
        publish("unit.status_changed", unit, from_status=old_status, to_status=unit.status)
    return unit


def delete_unit(unit: Unit) -> None:
    buyers = db.session.scalar(select(func.count()).select_from(UnitBuyer).where(UnitBuyer.unit_id == unit.id))
    if buyers:
        raise ServiceError({"number": "A unidade tem comprador(es) vinculado(s) e não pode ser excluída."})
    audit("unit.deleted", unit, number=unit.number, tower_id=unit.tower_id, development_id=unit.development_id)
    db.session.delete(unit)
    db.session.flush()
