"""The finish catalog: categories, items (with the typologies they apply to) and options with versioned prices.

Nothing a buyer has chosen is ever rewritten: a price change adds an OptionPrice version (lines keep
theirs); an option or item that was used is retired, not deleted, so old selections still show it.
"""
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.models import BASES, Category, Item, ItemTypology, Option, OptionPrice, SelectionLine
from portal.personalize.services.common import (as_bool, field, parse_money, parse_position, parse_quantity,
                                                parse_text, parse_url)
from portal.realestate.models import Development, Typology
from portal.web.csv_import import fold


# Categories
def save_category(development: Development, data: dict, category: Category | None = None) -> Category:
    errors: dict[str, str] = {}
    name = field(errors, "name", parse_text, data.get("name"), "o nome da categoria", 80)
    position = field(errors, "position", parse_position, data.get("position"))
    if name:
        others = db.session.execute(select(Category).where(Category.development_id == development.id)).scalars()
        if any(fold(c.name) == fold(name) and c is not category for c in others):
            errors["name"] = "Já existe uma categoria com este nome."
    if errors:
        raise ServiceError(errors)
    created = category is None
    category = category or Category(development_id=development.id)
    category.name, category.position = name, position
    db.session.add(category)
    db.session.flush()
    audit("finish_category.created" if created else "finish_category.updated", category, name=name)
    return category


def delete_category(category: Category) -> None:
    if db.session.scalar(select(func.count(Item.id)).where(Item.category_id == category.id)):
        raise ServiceError({"name": "A categoria tem itens. Exclua ou mova os itens antes."})
    audit("finish_category.deleted", category, name=category.name)
    db.session.delete(category)
    db.session.flush()


# Items
def save_item(development: Development, data: dict, item: Item | None = None) -> Item:
    """`data["typologies"]` maps typology id → quantity text for every typology the item applies to
    (pieces for "unit", the room's m² for "area"; ignored for "fixed")."""
    errors: dict[str, str] = {}
    category = db.session.get(Category, normalize.row_id(data.get("category_id")) or 0)
    if category is None or category.development_id != development.id:
        errors["category_id"] = "Escolha uma categoria deste empreendimento."
    name = field(errors, "name", parse_text, data.get("name"), "o nome do item", 120)
    description = field(errors, "description", parse_text, data.get("description"), "a descrição", 2000, False)
    basis = data.get("basis") or "unit"
    if basis not in BASES:
        errors["basis"] = "Escolha como o item é medido."
    position = field(errors, "position", parse_position, data.get("position"))
    own = {t.id: t for t in db.session.execute(select(Typology).where(
        Typology.development_id == development.id)).scalars()}
    quantities = {}
    for key, text in (data.get("typologies") or {}).items():
        tid = normalize.row_id(key)
        if tid not in own:
            errors["typologies"] = "Escolha tipologias deste empreendimento."
            continue
        if basis == "fixed":
            quantities[tid] = 1
        else:
            blank = 1 if basis == "unit" else None
            qty = field(errors, f"qty_{tid}", parse_quantity, text, blank)
            if f"qty_{tid}" in errors and basis == "area" and not str(text or "").strip():
                errors[f"qty_{tid}"] = f"Informe a área (m²) do ambiente na tipologia {own[tid].name}."
            quantities[tid] = qty
    if not quantities and "typologies" not in errors:
        errors["typologies"] = "Marque ao menos uma tipologia em que o item existe."
    if errors:
        raise ServiceError(errors)
    created = item is None
    item = item or Item(development_id=development.id)
    item.category_id, item.name, item.description, item.basis, item.position = (category.id, name, description,
                                                                                basis, position)
    db.session.add(item)
    db.session.flush()
    current = {link.typology_id: link for link in item.typology_links}
    for tid, link in current.items():
        if tid not in quantities:
            item.typology_links.remove(link)
    for tid, qty in quantities.items():
        if tid in current:
            current[tid].quantity = qty
        else:
            item.typology_links.append(ItemTypology(typology_id=tid, quantity=qty))
    db.session.flush()
    audit("finish_item.created" if created else "finish_item.updated", item, name=name, basis=basis,
          typologies={str(k): str(v) for k, v in quantities.items()})
    return item


def retire_item(item: Item, retired: bool = True) -> Item:
    """Retired items leave the buyer's page; selections that have a line for them keep showing it."""
    if (item.retired_at is not None) != retired:
        item.retired_at = utcnow() if retired else None
        audit("finish_item.retired" if retired else "finish_item.restored", item, name=item.name)
    return item


def delete_item(item: Item) -> None:
    if db.session.scalar(select(func.count(SelectionLine.id)).where(SelectionLine.item_id == item.id)):
        raise ServiceError({"name": "Há escolhas de compradores neste item: retire-o em vez de excluir."})
    audit("finish_item.deleted", item, name=item.name)
    for option in list(item.options):
        delete_option(option)
    db.session.delete(item)
    db.session.flush()


# Options
def _clean_option(data: dict) -> dict:
    errors: dict[str, str] = {}
    clean = {
        "name": field(errors, "name", parse_text, data.get("name"), "o nome da opção", 120),
        "description": field(errors, "description", parse_text, data.get("description"), "a descrição", 2000, False),
        "manufacturer_url": field(errors, "manufacturer_url", parse_url, data.get("manufacturer_url")),
        "is_standard": as_bool(data.get("is_standard")),
        "available": as_bool(data.get("available", True)),
        "position": field(errors, "position", parse_position, data.get("position")),
    }
    price = field(errors, "price", parse_money, data.get("price"))
    if clean["is_standard"] and price:
        errors["price"] = "A opção padrão não tem custo: deixe o preço em branco ou zero."
    if clean["is_standard"] and not clean["available"]:
        errors["available"] = "A opção padrão precisa estar disponível."
    if errors:
        raise ServiceError(errors)
    clean["price_cents"] = price
    return clean


def _set_price(option: Option, cents: int, user=None) -> OptionPrice:
    """A new price version. Two people saving at once both aim at version n+1: the unique
    (option, version) lets one win and tells the other to reload instead of losing an edit."""
    version = (option.price_version or 0) + 1 if option.id else 1
    price = OptionPrice(option_id=option.id, version=version, price_cents=cents, created_by_id=getattr(user, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(price)
    except IntegrityError as exc:
        raise ServiceError({"price": "O preço desta opção acabou de ser alterado por outra pessoa. "
                                     "Recarregue a página e confira."}) from exc
    option.price_cents, option.price_version = cents, version
    return price


def current_price(option: Option) -> OptionPrice:
    return db.session.execute(select(OptionPrice).where(OptionPrice.option_id == option.id,
                                                        OptionPrice.version == option.price_version)).scalar_one()


def _one_standard(option: Option) -> None:
    """At most one standard option per item: marking one unmarks the others."""
    if option.is_standard:
        db.session.execute(update(Option).where(Option.item_id == option.item_id, Option.id != option.id,
                                                Option.is_standard.is_(True)).values(is_standard=False))


def save_option(item: Item, data: dict, option: Option | None = None, user=None) -> Option:
    clean = _clean_option(data)
    cents = clean.pop("price_cents")
    created = option is None
    option = option or Option(item_id=item.id, development_id=item.development_id, price_version=0)
    if not created and option.retired_at is not None:
        raise ServiceError({"name": "Esta opção foi retirada e não pode ser alterada; cadastre uma nova."})
    for key, value in clean.items():
        setattr(option, key, value)
    db.session.add(option)
    db.session.flush()
    old_price = None if created else option.price_cents
    if created or cents != option.price_cents:
        _set_price(option, cents, user)
    _one_standard(option)
    db.session.flush()
    details = {"name": option.name, "item_id": item.id}
    if old_price is not None and old_price != option.price_cents:
        details["price_cents"] = [old_price, option.price_cents]
    audit("finish_option.created" if created else "finish_option.updated", option, **details)
    return option


def retire_option(option: Option, retired: bool = True) -> Option:
    """Retired: gone from the choices, still shown (with its price) on selections that have it."""
    if (option.retired_at is not None) != retired:
        if retired and option.is_standard:
            raise ServiceError({"name": "Esta é a opção padrão do item: marque outra como padrão antes de retirá-la."})
        option.retired_at = utcnow() if retired else None
        audit("finish_option.retired" if retired else "finish_option.restored", option, name=option.name)
    return option


def replace_option(option: Option, data: dict, user=None) -> Option:
    """Staff swap a product for another: the new option takes the old one's place and the old one is
    retired (lines that chose it keep it, with a pointer to what replaced it)."""
    if option.retired_at is not None:
        raise ServiceError({"name": "Esta opção já foi retirada."})
    data = {"position": option.position, **data}
    was_standard = option.is_standard
    if was_standard:
        option.is_standard = False  # the new one inherits the role; the old one can then retire
        data["is_standard"] = True
    new = save_option(option.item, data, user=user)
    option.replaced_by_id = new.id
    retire_option(option)
    audit("finish_option.replaced", option, replaced_by=new.id, standard=was_standard)
    return new


def delete_option(option: Option) -> None:
    if db.session.scalar(select(func.count(SelectionLine.id)).where(SelectionLine.option_id == option.id)):
        raise ServiceError({"name": "Há compradores com esta opção escolhida: retire-a em vez de excluir."})
    audit("finish_option.deleted", option, name=option.name)
    db.session.execute(delete(OptionPrice).where(OptionPrice.option_id == option.id))
    db.session.delete(option)
    db.session.flush()
