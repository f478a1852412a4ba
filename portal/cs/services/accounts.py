"""Accounts, their contacts and the product catalog (with at most 5 key features per product)."""
import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs import segmentation
from portal.cs.models import (CONTACT_ROLES, DEFAULT_TOUCH, TOUCH_MODELS, Account, Contact, KeyFeature, PhaseChange,
                              Product)
from portal.cs.services.journey import CADENCE_FIELDS, refresh_cadence, reschedule
from portal.cs.settings import get_settings
from portal.dbtypes import utcnow
from portal.extensions import db

MAX_KEY_FEATURES = 5
CSM_ROLES = ("csm", "cs_leader")
FEATURE_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")


# ---- small parsers shared by forms, imports and the API -------------------------------------------------

def parse_money_cents(value) -> int:
    """'2.000,00', '2000', 'R$ 2.000,00' or a Decimal → integer centavos (never a float)."""
    from portal.web.csv_import import parse_decimal
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").replace("R$", "").strip()
    if not text:
        return 0
    number = parse_decimal(text)
    if number < 0:
        raise ValueError("O valor não pode ser negativo.")
    return int((Decimal(number) * 100).quantize(Decimal("1")))


def parse_count(value, label="o número", maximum=10_000_000) -> int:
    if isinstance(value, bool):
        raise ValueError(f"Informe {label} (número inteiro).")
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip().replace(".", "")
        if not text:
            return 0
        if not text.isdigit():
            raise ValueError(f"Informe {label} (número inteiro, 0 ou mais).")
        number = int(text)
    if number < 0 or number > maximum:
        raise ValueError(f"Informe {label} entre 0 e {maximum:,}.".replace(",", "."))
    return number


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("Data inválida (use dd/mm/aaaa).")


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "sim", "s", "yes", "y", "true", "verdadeiro", "x", "on")


# ---- accounts ------------------------------------------------------------------------------------------

def find_by_cnpj(cnpj: str) -> Account | None:
    return db.session.execute(select(Account).where(Account.cnpj == cnpj)).scalar_one_or_none()


def csm_choices() -> list[User]:
    return list(db.session.execute(select(User).where(User.role.in_(CSM_ROLES), User.active.is_(True))
                                   .order_by(User.name)).scalars())


def _clean_account(data: dict, existing: Account | None) -> dict:
    """Only the keys present are cleaned (partial updates from imports and quick edits keep the rest)."""
    errors, clean = {}, {}
    if "name" in data or existing is None:
        name = " ".join((data.get("name") or "").split())
        if not name:
            errors["name"] = "Informe o nome da empresa."
        clean["name"] = name[:160]
    if "cnpj" in data or existing is None:
        try:
            clean["cnpj"] = normalize.cnpj(data.get("cnpj"))
            other = find_by_cnpj(clean["cnpj"])
            if other is not None and other is not existing:
                errors["cnpj"] = f"Já existe uma conta com este CNPJ ({other.name})."
        except normalize.InvalidValue as exc:
            errors["cnpj"] = str(exc)
    for field, label in (("employees", "o número de colaboradores"), ("contact_points", "os pontos de contato"),
                         ("open_tickets", "os chamados abertos"), ("sla_breaches", "os SLAs estourados"),
                         ("days_overdue", "os dias em atraso")):
        if field in data:
            try:
                clean[field] = parse_count(data.get(field), label)
            except ValueError as exc:
                errors[field] = str(exc)
    for field in ("mrr", "potential"):
        if field in data:
            try:
                value = data.get(field)
                clean[f"{field}_cents"] = None if field == "potential" and value in (None, "") else \
                    parse_money_cents(value)
            except ValueError as exc:
                errors[field] = "Informe um valor em reais, como 2.000,00." if "número" in str(exc) else str(exc)
    for field in ("contract_start", "renewal_date"):
        if field in data:
            try:
                clean[field] = parse_date(data.get(field))
            except ValueError as exc:
                errors[field] = str(exc)
    if clean.get("contract_start") and clean.get("renewal_date") and clean["renewal_date"] <= clean["contract_start"]:
        errors["renewal_date"] = "A renovação precisa ser depois do início do contrato."
    if "from_competitor" in data:
        clean["from_competitor"] = parse_bool(data.get("from_competitor"))
    if "competitor" in data:
        clean["competitor"] = (data.get("competitor") or "").strip()[:80] or None
    if "last_nps" in data:
        raw = data.get("last_nps")
        if raw in (None, ""):
            clean["last_nps"] = None
        else:
            try:
                clean["last_nps"] = parse_count(raw, "a nota NPS", maximum=10)
            except ValueError:
                errors["last_nps"] = "A nota NPS vai de 0 a 10."
    if "notes" in data:
        clean["notes"] = (data.get("notes") or "").strip()
    if "touch_model" in data:  # empty: follow the segment's default
        if data.get("touch_model") and data["touch_model"] not in TOUCH_MODELS:
            errors["touch_model"] = "Escolha o modelo de atendimento."
        clean["touch_model"] = data.get("touch_model") or None
    if "csm_id" in data:
        csm_id = data.get("csm_id") or None
        csm = db.session.get(User, normalize.row_id(csm_id) or 0) if csm_id else None
        if csm_id and (csm is None or csm.role not in CSM_ROLES or not csm.active):
            errors["csm_id"] = "Escolha um CSM ativo."
        clean["csm_id"] = csm.id if csm else None
    if "product_ids" in data:
        ids = {normalize.row_id(i) for i in data.get("product_ids") or []} - {None}
        products = list(db.session.execute(select(Product).where(Product.id.in_(ids))).scalars()) if ids else []
        if len(products) != len(ids):
            errors["product_ids"] = "Produto não encontrado."
        clean["products"] = products
    if errors:
        raise ServiceError(errors)
    return clean


def create_account(data: dict, user=None, started_at: datetime | None = None) -> Account:
    """A new account in Onboarding; `started_at` backdates the journey's start (an existing client's history)."""
    clean = _clean_account({"employees": 0, "contact_points": 0, **data}, None)
    now = utcnow()
    if started_at is not None and started_at > now:
        raise ServiceError({"started_at": "O início da jornada não pode estar no futuro."})
    started = started_at or now
    account = Account(phase="onboarding", phase_started_at=started, potential_updated_at=now, created_at=started,
                      updated_at=now, risk_reason="", notes="")
    products = clean.pop("products", [])
    for key, value in clean.items():
        setattr(account, key, value)
    account.products = products
    settings = get_settings()
    account.segment = segmentation.classify(segmentation.account_values(account), settings.segmentation)
    account.touch_model = account.touch_model or DEFAULT_TOUCH[account.segment]
    refresh_cadence(account, settings)
    db.session.add(account)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent import or form saved the same CNPJ first
        raise ServiceError({"cnpj": "Já existe uma conta com este CNPJ."}) from exc
    db.session.add(PhaseChange(account_id=account.id, from_phase=None, to_phase="onboarding", at=started,
                               user_id=getattr(user, "id", None)))
    audit("account.created", account, user=user, segment=account.segment)
    publish("account.created", account, actor=user)
    reschedule(account)
    return account


def update_account(account: Account, data: dict, user=None) -> Account:
    clean = _clean_account(data, account)
    products = clean.pop("products", None)
    touch = clean.pop("touch_model", "keep")
    changed = sorted(k for k, v in clean.items() if getattr(account, k) != v)
    for key in changed:
        setattr(account, key, clean[key])
    if products is not None and {p.id for p in products} != {p.id for p in account.products}:
        account.products = products
        changed.append("products")
    if "potential_cents" in changed:
        account.potential_updated_at = utcnow()
    if "last_nps" in changed:
        account.last_nps_at = utcnow() if account.last_nps is not None else None
    settings = get_settings()
    before = {f: getattr(account, f) for f in CADENCE_FIELDS}
    segment = segmentation.classify(segmentation.account_values(account), settings.segmentation)
    if segmentation.set_segment(account, segment, user, reschedule_now=False):
        changed.append("segment")
    if touch != "keep":
        wanted = touch or DEFAULT_TOUCH[account.segment]
        if wanted != account.touch_model:
            account.touch_model = wanted
            changed.append("touch_model")
    if not changed:
        return account
    refresh_cadence(account, settings)
    audit("account.updated", account, user=user, fields=changed)
    publish("account.updated", account, actor=user, campos=changed)
    dates = {f for f in CADENCE_FIELDS if getattr(account, f) != before[f]}
    if "renewal_date" in changed:
        dates.add("renewal_at")
    if "potential_cents" in changed:
        dates.add("potential_updated_at")
    if "csm_id" in changed:
        dates = None  # a new owner: every due item is re-read (their tasks and e-mails follow the owner)
    reschedule(account, dates)
    return account


# ---- contacts -------------------------------------------------------------------------------------------

def save_contact(account: Account, data: dict, contact: Contact | None = None, user=None) -> Contact:
    errors, clean = {}, {}
    clean["name"] = " ".join((data.get("name") or "").split())[:120]
    if not clean["name"]:
        errors["name"] = "Informe o nome do contato."
    clean["email"] = None
    if data.get("email"):
        try:
            clean["email"] = normalize.email(data["email"])
        except normalize.InvalidValue as exc:
            errors["email"] = str(exc)
        else:
            other = db.session.execute(select(Contact).where(Contact.account_id == account.id,
                                                             Contact.email == clean["email"])).scalar_one_or_none()
            if other is not None and other is not contact:
                errors["email"] = "Esta conta já tem um contato com este e-mail."
    clean["phone"] = None
    if data.get("phone"):
        try:
            clean["phone"] = normalize.phone(data["phone"])
        except normalize.InvalidValue as exc:
            errors["phone"] = str(exc)
    clean["job_title"] = (data.get("job_title") or "").strip()[:120]
    role = data.get("role") or "other"
    if role not in CONTACT_ROLES:
        errors["role"] = "Escolha o papel do contato."
    clean["role"] = role
    clean["decision_maker"] = parse_bool(data.get("decision_maker")) or role in ("sponsor", "decision")
    if errors:
        raise ServiceError(errors)
    created = contact is None
    contact = contact or Contact(account_id=account.id)
    for key, value in clean.items():
        setattr(contact, key, value)
    if created:
        account.contacts.append(contact)
    db.session.flush()
    audit("contact.created" if created else "contact.updated", contact, user=user, account_id=account.id)
    return contact


def delete_contact(contact: Contact, user=None) -> None:
    audit("contact.deleted", contact, user=user, account_id=contact.account_id)
    db.session.delete(contact)


# ---- products and key features ------------------------------------------------------------------------

def products() -> list[Product]:
    return list(db.session.execute(select(Product).order_by(Product.name)).scalars())


def product_by_name(name: str) -> Product | None:
    return db.session.execute(select(Product).where(func.lower(Product.name) == name.strip().lower())
                              ).scalar_one_or_none()


def save_product(data: dict, product: Product | None = None, user=None) -> Product:
    name = " ".join((data.get("name") or "").split())[:120]
    if not name:
        raise ServiceError({"name": "Informe o nome do produto."})
    other = product_by_name(name)
    if other is not None and other is not product:
        raise ServiceError({"name": "Já existe um produto com este nome."})
    created = product is None
    product = product or Product(active=True)
    product.name = name
    db.session.add(product)
    db.session.flush()
    audit("product.created" if created else "product.updated", product, user=user)
    return product


def add_key_feature(product: Product, data: dict, user=None) -> KeyFeature:
    """A key feature; at most 5 per product (the seed: “No máximo 5 funcionalidades por produto”)."""
    errors = {}
    name = " ".join((data.get("name") or "").split())[:120]
    code = (data.get("code") or "").strip().lower()
    if not name:
        errors["name"] = "Informe o nome da funcionalidade."
    if not FEATURE_CODE.match(code):
        errors["code"] = "Use letras minúsculas, números, _ . ou - (é o nome enviado nos dados de uso)."
    elif db.session.execute(select(KeyFeature.id).where(KeyFeature.code == code)).first():
        errors["code"] = "Este código já é usado por outra funcionalidade."
    # Lock the product row so two people adding features at once cannot both pass the limit.
    db.session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    count = db.session.scalar(select(func.count(KeyFeature.id)).where(KeyFeature.product_id == product.id))
    if count >= MAX_KEY_FEATURES:
        errors["name"] = f"Cada produto tem no máximo {MAX_KEY_FEATURES} funcionalidades-chave."
    if errors:
        raise ServiceError(errors)
    feature = KeyFeature(code=code, name=name)
    product.features.append(feature)  # keeps the loaded collection in step with the table
    db.session.flush()
    audit("key_feature.created", feature, user=user, product_id=product.id, code=code)
    return feature


def delete_key_feature(feature: KeyFeature, user=None) -> None:
    audit("key_feature.deleted", feature, user=user, code=feature.code)
    db.session.delete(feature)
