"""Usage metrics in (API and CSV): per account per day per feature. Every row is checked before anything
is written; sending the same (account, day, feature) again replaces the count — an upsert on the unique
key, so two clients sending at once cannot double it either."""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from portal import normalize
from portal.errors import ServiceError
from portal.cs.models import Account, UsageMetric, local_today
from portal.cs.services.accounts import parse_date
from portal.dbtypes import utcnow
from portal.extensions import db

FEATURE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
MAX_AGE_DAYS = 400     # older history is not what the health score reads; refuse likely typos
MAX_COUNT = 10 ** 12
MAX_ROWS = 5000


@dataclass(frozen=True)
class UsageRow:
    account_id: int
    day: date
    feature: str
    count: int


def accounts_by_cnpj(cnpjs) -> dict[str, int]:
    cnpjs = {c for c in cnpjs if c}
    if not cnpjs:
        return {}
    found = {}
    items = sorted(cnpjs)
    for start in range(0, len(items), 900):  # stay under SQLite's bound-parameter limit
        found.update(db.session.execute(select(Account.cnpj, Account.id)
                                        .where(Account.cnpj.in_(items[start:start + 900]))).all())
    return found


def clean_row(raw: dict, known: dict[str, int], today: date | None = None) -> tuple[UsageRow | None, dict]:
    """(row, {}) or (None, {field: message}); `known` maps CNPJ digits → account id."""
    today = today or local_today()
    errors = {}
    account_id = None
    cnpj = normalize.digits(str(raw.get("cnpj") or ""))
    if not cnpj:
        errors["cnpj"] = "Informe o CNPJ da conta."
    else:
        try:
            cnpj = normalize.cnpj(cnpj)
        except normalize.InvalidValue as exc:
            errors["cnpj"] = str(exc)
        else:
            account_id = known.get(cnpj)
            if account_id is None:
                errors["cnpj"] = "Nenhuma conta com este CNPJ."
    day = None
    try:
        day = parse_date(raw.get("day"))
        if day is None:
            errors["day"] = "Informe o dia (aaaa-mm-dd)."
        elif day > today:
            errors["day"] = "O dia não pode estar no futuro."
        elif day < today - timedelta(days=MAX_AGE_DAYS):
            errors["day"] = f"O dia passa de {MAX_AGE_DAYS} dias atrás."
    except ValueError:
        errors["day"] = "Dia inválido (use aaaa-mm-dd)."
    feature = str(raw.get("feature") or "").strip().lower()
    if not FEATURE.match(feature):
        errors["feature"] = "Informe o código da funcionalidade (letras minúsculas, números, _ . -; até 80)."
    count = raw.get("count")
    if isinstance(count, str):
        count = normalize.row_id(count)  # ASCII digits: int() takes '١' and fails on '²'
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        errors["count"] = "Informe a quantidade como número inteiro (0 ou mais)."
    if errors:
        return None, errors
    return UsageRow(account_id, day, feature, count), {}


def validate(rows: list, today: date | None = None) -> list[UsageRow]:
    """Every row or ServiceError with `rows[i].field` → message; the same key twice is an error too."""
    if not isinstance(rows, list) or not rows:
        raise ServiceError({"rows": "Envie uma lista de linhas de uso."})
    if len(rows) > MAX_ROWS:
        raise ServiceError({"rows": f"No máximo {MAX_ROWS} linhas por envio."})
    known = accounts_by_cnpj(normalize.digits(str(r.get("cnpj") or "")) for r in rows if isinstance(r, dict))
    errors, clean, seen = {}, [], {}
    for i, raw in enumerate(rows):
        if not isinstance(raw, dict):
            errors[f"rows[{i}]"] = "Cada linha precisa ser um objeto com cnpj, day, feature e count."
            continue
        row, row_errors = clean_row(raw, known, today)
        for name, message in row_errors.items():
            errors[f"rows[{i}].{name}"] = message
        if row is None:
            continue
        key = (row.account_id, row.day, row.feature)
        if key in seen:
            errors[f"rows[{i}]"] = f"Repete a linha {seen[key]} (mesma conta, dia e funcionalidade)."
            continue
        seen[key] = i
        clean.append(row)
    if errors:
        raise ServiceError(errors)
    return clean


def _insert():
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(UsageMetric)


def store(rows: list[UsageRow]) -> dict:
    """Upsert validated rows; returns how many were new and how many replaced a stored count."""
    if not rows:
        return {"received": 0, "created": 0, "replaced": 0}
    existing = 0
    by_account: dict[int, list[UsageRow]] = {}
    for row in rows:
        by_account.setdefault(row.account_id, []).append(row)
    for account_id, items in by_account.items():
        days = {r.day for r in items}
        stored = set(db.session.execute(select(UsageMetric.day, UsageMetric.feature).where(
            UsageMetric.account_id == account_id, UsageMetric.day.in_(days))).all())
        existing += sum(1 for r in items if (r.day, r.feature) in stored)
    now = utcnow()
    values = [{"account_id": r.account_id, "day": r.day, "feature": r.feature, "count": r.count, "received_at": now}
              for r in rows]
    for start in range(0, len(values), 500):
        stmt = _insert().values(values[start:start + 500])
        stmt = stmt.on_conflict_do_update(index_elements=["account_id", "day", "feature"],
                                          set_={"count": stmt.excluded.count, "received_at": stmt.excluded.received_at})
        db.session.execute(stmt)
    for account_id, items in by_account.items():
        last = max(r.day for r in items)
        db.session.execute(Account.__table__.update().where(
            Account.id == account_id, (Account.last_usage_on.is_(None)) | (Account.last_usage_on < last))
            .values(last_usage_on=last))
    return {"received": len(rows), "created": len(rows) - existing, "replaced": existing}


def ingest(rows: list, today: date | None = None) -> dict:
    """Validate everything, then write everything (the caller commits; on error nothing was written)."""
    return store(validate(rows, today))


def stored_count(account_id: int, day: date, feature: str) -> int | None:
    return db.session.execute(select(UsageMetric.count).where(UsageMetric.account_id == account_id,
                                                              UsageMetric.day == day,
                                                              UsageMetric.feature == feature)).scalar_one_or_none()


def daily_totals(account: Account, days: int = 90, day: date | None = None) -> list[tuple[date, int]]:
    day = day or local_today()
    return list(db.session.execute(select(UsageMetric.day, func.sum(UsageMetric.count))
                                   .where(UsageMetric.account_id == account.id,
                                          UsageMetric.day > day - timedelta(days=days), UsageMetric.day <= day)
                                   .group_by(UsageMetric.day).order_by(UsageMetric.day)).all())
