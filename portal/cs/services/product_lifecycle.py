"""Products in a migration's life: the legacy flag and successor of a product, and the successor's current
price table (components priced per transaction), which a migration's new components are priced from."""
from sqlalchemy import func, select

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.cs.models import Product
from portal.cs.playbook_models import Migration, ProductComponent
from portal.cs.services.accounts import parse_money_cents
from portal.extensions import db

MAX_PRICE_CENTS = 10**13  # beyond any real price; also what a BIGINT column holds with room to spare

def legacy_products() -> list[Product]:
    return list(db.session.execute(select(Product).where(Product.legacy.is_(True)).order_by(Product.name)).scalars())


def save_lifecycle(product: Product, data: dict, user=None) -> Product:
    legacy = str(data.get("legacy") or "").lower() in ("1", "on", "true", "sim")
    raw = str(data.get("successor_id") or "").strip()
    successor = None
    if raw:
        successor = db.session.get(Product, normalize.row_id(raw) or 0)
        if successor is None:
            raise ServiceError({"successor_id": "Escolha um produto da lista."})
        if successor.id == product.id:
            raise ServiceError({"successor_id": "Um produto não pode suceder a si mesmo."})
        if successor.legacy:
            raise ServiceError({"successor_id": "O sucessor não pode ser um produto legado."})
    if legacy and successor is None and _migrations_of(product):
        raise ServiceError({"successor_id": "Há migrações deste produto: mantenha um sucessor."})
    before = (product.legacy, product.successor_id)
    product.legacy, product.successor_id = legacy, successor.id if successor else None
    if (product.legacy, product.successor_id) != before:
        audit("product.lifecycle", product, user=user, legacy=legacy, successor_id=product.successor_id)
    return product


def _migrations_of(product: Product) -> int:
    return db.session.scalar(select(func.count(Migration.id)).where(Migration.legacy_product_id == product.id))


def components(product: Product) -> list[ProductComponent]:
    return list(db.session.execute(select(ProductComponent).where(ProductComponent.product_id == product.id)
                                   .order_by(ProductComponent.name)).scalars())


def save_component(product: Product, data: dict, user=None) -> ProductComponent:
    """Add or reprice a component of the current table (per transaction, in centavos)."""
    errors = {}
    name = " ".join((data.get("name") or "").split())[:80]
    if not name:
        errors["name"] = "Informe o componente."
    try:
        price = parse_money_cents(data.get("price"))
        if not str(data.get("price") or "").strip():
            errors["price"] = "Informe o preço da tabela vigente."
        elif price > MAX_PRICE_CENTS:
            raise ValueError("too large")
    except (ValueError, ArithmeticError):  # Decimal overflow is an ArithmeticError
        errors["price"] = "Informe um valor em reais, como 1,20."
        price = 0
    if errors:
        raise ServiceError(errors)
    row = db.session.execute(select(ProductComponent).where(ProductComponent.product_id == product.id,
                                                            ProductComponent.name == name)).scalar_one_or_none()
    if row is None:
        row = ProductComponent(product_id=product.id, name=name)
        db.session.add(row)
    row.price_cents = price
    db.session.flush()
    audit("product.component_saved", product, user=user, component=name, price_cents=price)
    return row


def delete_component(row: ProductComponent, user=None) -> None:
    audit("product.component_deleted", object_type="Product", object_id=row.product_id, user=user, component=row.name)
    db.session.delete(row)
