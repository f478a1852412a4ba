"""Product-migration playbooks: which products are legacy (and their successor), the successor's price table,
the migration plan of a legacy product (its accounts grouped by touch model), and each account's migration
walking the seed's steps in order, with price maintenance and the parallel period of both products.

The parallel period's end is the account's rule date `parallel_end_at` (rules.py): a seeded time rule
reminds the CSM to ask for the legacy shutdown on that day, once per agreed date; the date disappears when
the legacy is shut down, so nothing fires after that."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import criteria
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs.models import (TOUCH_MODELS, Account, AlertRule, Product, account_products, local_today, local_tz,
                              morning_of)
from portal.cs.playbook_models import APPROACHES, DONE, STEPS, Migration, MigrationComponent, MigrationStep
from portal.cs.services.accounts import parse_date, parse_money_cents
# The product side (legacy flag, successor, price table) lives in product_lifecycle; re-exported for callers.
from portal.cs.services.product_lifecycle import (MAX_PRICE_CENTS, components, delete_component, legacy_products,  # noqa: F401
                                                  save_component, save_lifecycle)
from portal.dbtypes import utcnow
from portal.extensions import db

RULE_KEY = "migration_parallel_end"
NARRATED_EVENTS = ("account.migration_started", "account.migration_step")  # told in full by timeline_entries
STAFF_EXCLUDED = ("customer", "personalization")


def parallel_end_on(account: Account) -> date | None:
    """The earliest agreed end of a parallel period whose legacy product still runs (None: nothing to remind)."""
    return db.session.scalar(select(func.min(Migration.parallel_until)).where(
        Migration.account_id == account.id, Migration.legacy_shutdown_on.is_(None),
        Migration.parallel_until.is_not(None)))


def _reschedule(account: Account) -> None:
    from portal.cs.services.journey import reschedule
    reschedule(account, {"parallel_end_at"})


# What a board card or a plan row shows, loaded for the whole list at once (not one query per card).
_CARD_LOADS = (selectinload(Migration.account), selectinload(Migration.legacy_product),
               selectinload(Migration.new_product))


# ---- the plan ------------------------------------------------------------------------------------------

@dataclass
class PlanRow:
    account: Account
    migration: Migration | None
    flagged: bool = False


@dataclass
class Group:
    touch: str
    rows: list[PlanRow] = field(default_factory=list)

    @property
    def label(self):
        return TOUCH_MODELS.get(self.touch, self.touch)

    @property
    def approach(self):
        return APPROACHES.get(self.touch, "")

    @property
    def count(self):
        return len(self.rows)

    @property
    def mrr_cents(self):
        return sum(r.account.mrr_cents or 0 for r in self.rows)

    @property
    def not_started(self):
        return sum(1 for r in self.rows if r.migration is None)

    @property
    def in_progress(self):
        return sum(1 for r in self.rows if r.migration is not None and r.migration.status == "active")


@dataclass
class Plan:
    product: Product
    groups: list[Group]
    done: list[Migration]
    flagged: list[PlanRow]

    @property
    def count(self):
        return sum(g.count for g in self.groups)

    @property
    def mrr_cents(self):
        return sum(g.mrr_cents for g in self.groups)


def plan(user, product: Product, today: date | None = None) -> Plan:
    """The visible accounts still on the legacy product, by touch model (the account's own, editable; by
    default high for Enterprise and mid for ME/PME), with their migration; finished migrations apart."""
    today = today or local_today()
    on_product = select(account_products.c.account_id).where(account_products.c.product_id == product.id)
    accounts = db.session.execute(select(Account).where(Account.id.in_(on_product), criteria(user, Account))
                                  .order_by(Account.mrr_cents.desc(), Account.name)).scalars().all()
    migrations = {m.account_id: m for m in db.session.execute(
        select(Migration).join(Account, Account.id == Migration.account_id)
        .where(Migration.legacy_product_id == product.id, criteria(user, Account)).options(*_CARD_LOADS)).scalars()}
    groups = {touch: Group(touch) for touch in ("tech", "mid", "high")}
    flagged = []
    for account in accounts:
        migration = migrations.get(account.id)
        row = PlanRow(account, migration, bool(migration and migration.both_after_end(today)))
        groups.setdefault(account.touch_model, Group(account.touch_model)).rows.append(row)
        if row.flagged:
            flagged.append(row)
    done = [m for m in migrations.values() if m.status == DONE and m.account_id not in {a.id for a in accounts}]
    return Plan(product, list(groups.values()), sorted(done, key=lambda m: m.account.name), flagged)


def start_migrations(product: Product, accounts: list[Account], user=None) -> list[Migration]:
    """Open a migration for each account (bulk); accounts already migrating this product are left alone."""
    if not product.legacy or product.successor_id is None:
        raise ServiceError({"account_ids": "Marque o produto como legado e escolha o sucessor antes de migrar."})
    if not accounts:
        raise ServiceError({"account_ids": "Selecione ao menos uma conta."})
    outside = [a.name for a in accounts if product not in a.products]
    if outside:
        raise ServiceError({"account_ids": f"Conta sem o produto {product.name}: {', '.join(outside[:3])}."})
    created = []
    for account in accounts:
        try:
            with db.session.begin_nested():
                migration = Migration(account_id=account.id, legacy_product_id=product.id,
                                      new_product_id=product.successor_id, started_by_id=getattr(user, "id", None),
                                      status="active", step="negotiation", step_since=utcnow(),
                                      legacy_entity_id="", new_entity_id="", notes="")
                db.session.add(migration)
        except IntegrityError:
            continue  # already migrating (or a concurrent click made it)
        audit("migration.started", migration, user=user, account_id=account.id, product=product.name)
        publish("account.migration_started", account, actor=user, produto=product.name,
                sucessor=product.successor.name)
        created.append(migration)
    if len(accounts) > 1:
        audit("migration.bulk_started", product, user=user, accounts=[a.id for a in accounts],
              created=[m.account_id for m in created])
    return created


# ---- one migration ---------------------------------------------------------------------------------------

def owner_choices() -> list[User]:
    return list(db.session.execute(select(User).where(User.active.is_(True), User.role.not_in(STAFF_EXCLUDED))
                                   .order_by(User.name)).scalars())


def next_step(step: str) -> str:
    keys = list(STEPS)
    return DONE if step == DONE or step == keys[-1] else keys[keys.index(step) + 1]


def complete_step(migration: Migration, data: dict, user=None) -> MigrationStep:
    """Record the step in progress as done (owner, date, notes) and move to the next; steps go in order.

    `to` (the board's target column) or `step` (the step being closed) must name the right move."""
    current = migration.step
    if migration.status != "active" or current == DONE:
        raise ServiceError({"step": "Esta migração já foi concluída."})
    errors = {}
    if data.get("to") and data["to"] != next_step(current):
        target = STEPS.get(data["to"], "Concluída")
        errors["step"] = (f"As etapas seguem em ordem: conclua “{STEPS[current]}” para avançar"
                          f" (não dá para ir para “{target}”).")
    elif data.get("step") and data["step"] != current:
        errors["step"] = f"As etapas seguem em ordem: a etapa em andamento é “{STEPS[current]}”."
    raw_owner = str(data.get("owner_id") or "").strip()
    owner = db.session.get(User, normalize.row_id(raw_owner) or 0)
    if owner is None or not owner.active or owner.role in STAFF_EXCLUDED:
        errors["owner_id"] = "Escolha o responsável pela etapa."
    try:
        done_on = parse_date(data.get("done_on"))
    except ValueError as exc:
        errors["done_on"], done_on = str(exc), None
    if done_on is None and "done_on" not in errors:
        errors["done_on"] = "Informe a data da etapa."
    previous = migration.steps[-1].done_on if migration.steps else None
    if done_on and done_on > local_today():
        errors["done_on"] = "A data não pode estar no futuro."
    elif done_on and previous and done_on < previous:
        errors["done_on"] = f"A data não pode ser anterior à etapa anterior ({previous:%d/%m/%Y})."
    notes = (data.get("notes") or "").strip()[:4000]
    new_entity = " ".join(str(data.get("new_entity_id") or "").split())[:40]
    if current == "credentials" and not (new_entity or migration.new_entity_id):
        errors["new_entity_id"] = "Informe o novo ID de entidade: as credenciais são criadas para ele."
    if new_entity and new_entity == migration.legacy_entity_id:
        errors["new_entity_id"] = "O novo produto precisa de outro ID de entidade."
    if errors:
        raise ServiceError(errors)
    after = next_step(current)
    moved = db.session.execute(update(Migration).where(Migration.id == migration.id, Migration.step == current)
                               .values(step=after, step_since=utcnow())
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ServiceError({"step": "A migração avançou enquanto você editava. Recarregue a página."})
    migration.step, migration.step_since = after, utcnow()
    if new_entity:
        migration.new_entity_id = new_entity
    row = MigrationStep(migration_id=migration.id, step=current, owner_id=owner.id, done_on=done_on, notes=notes,
                        recorded_by_id=getattr(user, "id", None))
    migration.steps.append(row)
    account = migration.account
    if current == "swap" and migration.new_product not in account.products:
        account.products.append(migration.new_product)  # the product swap is recorded: both run for now
    if current == "shutdown":
        migration.status, migration.legacy_shutdown_on, migration.finished_at = DONE, done_on, utcnow()
        if migration.legacy_product in account.products:
            account.products.remove(migration.legacy_product)
    db.session.flush()
    audit("migration.step_completed", migration, user=user, step=current, owner_id=owner.id,
          done_on=done_on.isoformat(), account_id=account.id)
    publish("account.migration_step", account, actor=user, etapa=STEPS[current], responsavel=owner.name,
            data=done_on, produto=migration.legacy_product.name)
    if current == "shutdown":
        publish("account.migration_finished", account, actor=user, produto=migration.legacy_product.name,
                sucessor=migration.new_product.name)
        _reschedule(account)
    return row


def save_details(migration: Migration, data: dict, user=None) -> Migration:
    """Entity ids (legacy and new) and the parallel period's agreed end; re-arms the reminder."""
    errors = {}
    legacy_id = " ".join(str(data.get("legacy_entity_id") or "").split())[:40]
    new_id = " ".join(str(data.get("new_entity_id") or "").split())[:40]
    if legacy_id and new_id and legacy_id == new_id:
        errors["new_entity_id"] = "Os dois produtos não podem usar o mesmo ID de entidade."
    try:
        until = parse_date(data.get("parallel_until"))
    except ValueError as exc:
        errors["parallel_until"], until = str(exc), None
    if until is not None:
        if not (legacy_id and new_id) and "new_entity_id" not in errors:
            errors["parallel_until" if legacy_id or new_id else "legacy_entity_id"] = \
                "O período paralelo exige os dois IDs de entidade (legado e novo)."
        started = migration.created_at.astimezone(local_tz()).date() if migration.created_at else local_today()
        if until < started:
            errors["parallel_until"] = "O fim do período paralelo não pode ser antes do início da migração."
        if migration.legacy_shutdown_on is not None:
            errors["parallel_until"] = "O legado já foi desligado."
    if errors:
        raise ServiceError(errors)
    changed = {k: v for k, v in (("legacy_entity_id", legacy_id), ("new_entity_id", new_id),
                                 ("parallel_until", until)) if getattr(migration, k) != v}
    notes = (data.get("notes") or "").strip()[:4000] if "notes" in data else migration.notes
    if notes != migration.notes:
        migration.notes = notes
        changed["notes"] = True
    for key, value in changed.items():
        if key != "notes":
            setattr(migration, key, value)
    if not changed:
        return migration
    db.session.flush()
    audit("migration.updated", migration, user=user, fields=sorted(changed))
    if "parallel_until" in changed:
        if until is not None:
            ensure_parallel_rule()
        _reschedule(migration.account)
    return migration


def save_price(migration: Migration, data: dict, user=None) -> MigrationComponent:
    """A component of the migrated contract: `kept` at the legacy price it had (centavos), or new at the
    successor's current table (copied when recorded, so later table changes do not move a closed deal)."""
    errors = {}
    name = " ".join((data.get("name") or "").split())[:80]
    if not name:
        errors["name"] = "Informe o componente."
    kept = str(data.get("kept") or "").lower() in ("1", "on", "true", "sim")
    table = {c.name.lower(): c for c in components(migration.new_product)}
    in_table = table.get(name.lower())
    legacy_price = None
    if kept:
        try:
            if not str(data.get("legacy_price") or "").strip():
                raise ValueError("empty")
            legacy_price = parse_money_cents(data.get("legacy_price"))
            if legacy_price > MAX_PRICE_CENTS:
                raise ValueError("too large")
        except (ValueError, ArithmeticError):  # Decimal overflow is an ArithmeticError
            errors["legacy_price"] = "Informe o preço que a conta paga hoje no legado, como 1,00."
    elif name and in_table is None:
        errors["name"] = f"Componente novo precisa estar na tabela vigente de {migration.new_product.name}."
    if name and any(c.name.lower() == name.lower() for c in migration.components):
        errors["name"] = "Este componente já está na migração."
    if errors:
        raise ServiceError(errors)
    row = MigrationComponent(migration_id=migration.id, name=in_table.name if in_table else name, kept=kept,
                             legacy_price_cents=legacy_price, table_price_cents=in_table.price_cents if in_table else None)
    migration.components.append(row)
    db.session.flush()
    audit("migration.price_saved", migration, user=user, component=row.name, kept=kept,
          legacy_price_cents=legacy_price, table_price_cents=row.table_price_cents)
    return row


def delete_price(row: MigrationComponent, user=None) -> None:
    audit("migration.price_deleted", object_type="Migration", object_id=row.migration_id, user=user,
          component=row.name)
    db.session.delete(row)


# ---- board, account page, rule ----------------------------------------------------------------------------

def visible_migrations(user, product_id: int | None = None, status: str | None = None):
    stmt = (select(Migration).join(Account, Account.id == Migration.account_id).where(criteria(user, Account))
            .options(*_CARD_LOADS).order_by(Migration.step_since, Account.name))
    if product_id:
        stmt = stmt.where(Migration.legacy_product_id == product_id)
    if status:
        stmt = stmt.where(Migration.status == status)
    return db.session.execute(stmt).scalars().all()


def board(user, product_id: int | None = None) -> list[dict]:
    columns = [{"step": key, "label": label, "migrations": []} for key, label in STEPS.items()]
    columns.append({"step": DONE, "label": "Concluídas", "migrations": []})
    index = {c["step"]: c for c in columns}
    for migration in visible_migrations(user, product_id):
        index[migration.step]["migrations"].append(migration)
    return columns


def account_migrations(account: Account) -> list[Migration]:
    return list(db.session.execute(select(Migration).where(Migration.account_id == account.id)
                                   .order_by(Migration.id)).scalars())


def timeline_entries(account: Account) -> list:
    from portal.automation.timeline import Entry
    entries = []
    for migration in account_migrations(account):
        names = f"{migration.legacy_product.name} → {migration.new_product.name}"
        entries.append(Entry(migration.created_at, "migration", f"Migração iniciada: {names}",
                             actor=migration.started_by.name if migration.started_by else None))
        for row in migration.steps:
            entries.append(Entry(morning_of(row.done_on), "migration", f"Migração {names}: {row.label}",
                                 body=row.notes, actor=row.owner.name if row.owner else None,
                                 status="Etapa concluída"))
    return entries


def ensure_parallel_rule():
    """The default reminder (once per agreed end date, to the CSM: task + e-mail); idempotent, tunable."""
    from portal.automation.rules import save_rule
    existing = db.session.get(AlertRule, RULE_KEY)
    if existing is not None:
        return existing.rule
    body = ("O período paralelo de {{ account.name }} nos dois produtos terminou em {{ account.parallel_end_br }}. "
            "Peça ao suporte o desligamento do produto legado (interface e API) e encerre a oportunidade antiga."
            "\n\nAbrir a conta: {{ link }}")
    title = "Pedir desligamento do legado: {{ account.name }}"
    rule = save_rule({"name": "CS · Fim do período paralelo da migração", "active": True, "subject_type": "account",
                      "trigger": "time", "date_field": "parallel_end_at", "offset_amount": 0, "offset_unit": "days",
                      "direction": "after", "repeat_every_days": None, "quiet_hours": True, "business_hours": False,
                      "conditions": [], "actions": [
                          {"type": "task", "to": "owner", "subject": title, "body": body},
                          {"type": "message", "channel": "email", "to": "owner",
                           "subject": "[Sucesso do cliente] " + title, "body": body}]})
    db.session.add(AlertRule(key=RULE_KEY, rule_id=rule.id))
    db.session.flush()
    return rule
