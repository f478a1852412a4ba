"""CSM capacity: each CSM's book against the capacity the CS leader sets (default 1 CSM : 30 Enterprise
accounts, 1 : 40 ME/PME, R$ 100.000,00 of MRR), how many CSMs the whole book needs, a rebalancing proposal
and the bulk reassignment of accounts.

A CSM's account load is the sum over segments of accounts / accounts-per-CSM (20 ME/PME + 15 Enterprise =
0,5 + 0,5 = 100 %); the MRR load is MRR / MRR-per-CSM; the load is the larger of the two. Loads are exact
fractions, so "exactly full" never flips on a rounding error."""
import math
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import func, select

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import scoped, visible_user_ids
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs import queries
from portal.cs.models import SEGMENTS, Account
from portal.cs.services.accounts import parse_money_cents
from portal.cs.services.journey import reschedule
from portal.cs.settings import DEFAULT_CAPACITY, get_settings, save_section
from portal.extensions import db

ACCOUNTS_PER_CSM = DEFAULT_CAPACITY["accounts_per_csm"]
MRR_PER_CSM_CENTS = DEFAULT_CAPACITY["mrr_per_csm_cents"]
MAX_ACCOUNTS_PER_CSM = 10_000
MAX_MRR_PER_CSM_CENTS = 10**13
MAX_REASSIGN = 500
REASSIGNERS = ("cs_leader", "admin")


@dataclass(frozen=True)
class Capacity:
    accounts_per_csm: dict
    mrr_per_csm_cents: int

    @classmethod
    def current(cls) -> "Capacity":
        values = get_settings().capacity
        return cls({seg: int(values["accounts_per_csm"].get(seg) or ACCOUNTS_PER_CSM.get(seg, 40))
                    for seg in SEGMENTS}, int(values["mrr_per_csm_cents"]))

    def per(self, segment: str) -> int:
        return self.accounts_per_csm.get(segment) or self.accounts_per_csm["smb"]


@dataclass
class Load:
    name: str
    user_id: int | None
    accounts: dict
    mrr_cents: int
    capacity: Capacity = field(default_factory=lambda: Capacity(dict(ACCOUNTS_PER_CSM), MRR_PER_CSM_CENTS))
    role: str = "csm"

    @property
    def account_fraction(self) -> Fraction:
        return sum((Fraction(n, self.capacity.per(seg)) for seg, n in self.accounts.items()), Fraction(0))

    @property
    def mrr_fraction(self) -> Fraction:
        return Fraction(self.mrr_cents, self.capacity.mrr_per_csm_cents)

    @property
    def account_load(self) -> float:
        return float(self.account_fraction)

    @property
    def mrr_load(self) -> float:
        return float(self.mrr_fraction)

    @property
    def account_pct(self) -> int:
        return round(self.account_fraction * 100)

    @property
    def mrr_pct(self) -> int:
        return round(self.mrr_fraction * 100)

    @property
    def load_pct(self) -> int:
        return round(max(self.account_fraction, self.mrr_fraction) * 100)

    @property
    def total_accounts(self) -> int:
        return sum(self.accounts.values())

    @property
    def overloaded(self) -> bool:
        return self.account_fraction > 1 or self.mrr_fraction > 1

    def fits(self, segment: str, mrr_cents: int) -> bool:
        """Would one more account of this segment and MRR keep the book within capacity?"""
        return (self.account_fraction + Fraction(1, self.capacity.per(segment)) <= 1
                and self.mrr_cents + mrr_cents <= self.capacity.mrr_per_csm_cents)

    def add(self, segment: str, mrr_cents: int, sign: int = 1) -> None:
        self.accounts[segment] = self.accounts.get(segment, 0) + sign
        self.mrr_cents += sign * mrr_cents


# ---- settings ------------------------------------------------------------------------------------------

def clean_capacity(form) -> dict:
    errors, per_csm = {}, {}
    for seg, label in SEGMENTS.items():
        raw = (form.get(f"accounts-{seg}") or "").strip().replace(".", "")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ACCOUNTS_PER_CSM:
            errors[f"accounts-{seg}"] = f"Informe de 1 a {MAX_ACCOUNTS_PER_CSM:,} contas {label} por CSM.".replace(
                ",", ".")
        else:
            per_csm[seg] = int(raw)
    mrr = None
    try:
        mrr = parse_money_cents(form.get("mrr"))
    except (ValueError, ArithmeticError):
        errors["mrr"] = "Valor inválido (ex.: 100.000,00)."
    if mrr is not None and "mrr" not in errors and not 0 < mrr <= MAX_MRR_PER_CSM_CENTS:
        errors["mrr"] = "Informe um MRR por CSM maior que zero."
    if errors:
        raise ServiceError(errors)
    return {"accounts_per_csm": per_csm, "mrr_per_csm_cents": mrr}


def save_capacity(form, user=None) -> Capacity:
    save_section("capacity", clean_capacity(form), user)
    return Capacity.current()


# ---- loads ------------------------------------------------------------------------------------------

def _book(user) -> dict:
    """csm_id → (accounts by segment, MRR) over the accounts in scope."""
    stmt = (scoped(user, Account, Account.csm_id, Account.segment, func.count(Account.id), func.sum(Account.mrr_cents))
            .group_by(Account.csm_id, Account.segment))
    book: dict = {}
    for csm_id, segment, count, mrr in db.session.execute(stmt):
        entry = book.setdefault(csm_id, {"accounts": {}, "mrr": 0})
        entry["accounts"][segment] = count
        entry["mrr"] += int(mrr or 0)
    return book


def _people(user) -> list[User]:
    """CSMs in scope, plus leaders who carry a book of their own (a leader without accounts is no capacity)."""
    owners = _owners(user)  # once, not once per leader in the list
    return [u for u in queries.team_csms(user) if u.role == "csm" or u.id in owners]


def _owners(user) -> set:
    return set(db.session.execute(scoped(user, Account, Account.csm_id).where(Account.csm_id.is_not(None))
                                  .distinct()).scalars())


def overview(user, capacity: Capacity | None = None) -> dict:
    capacity = capacity or Capacity.current()
    book = _book(user)
    people = _people(user)
    loads = [Load(u.name, u.id, dict(book.get(u.id, {}).get("accounts", {})), book.get(u.id, {}).get("mrr", 0),
                  capacity, u.role) for u in people]
    loads.sort(key=lambda load: (-load.load_pct, load.name, load.user_id))
    total = Load("Total", None, {}, 0, capacity)
    for entry in book.values():
        for seg, n in entry["accounts"].items():
            total.accounts[seg] = total.accounts.get(seg, 0) + n
        total.mrr_cents += entry["mrr"]
    needed = math.ceil(max(total.account_fraction, total.mrr_fraction)) if total.total_accounts else 0
    unassigned = book.get(None)
    return {"loads": loads, "total": total, "needed": needed, "capacity": capacity,
            "have": sum(1 for u in people if u.role == "csm"),
            "unassigned": Load("Sem CSM", None, unassigned["accounts"], unassigned["mrr"], capacity)
            if unassigned else None}


# ---- rebalancing ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    account_id: int
    account_name: str
    segment: str
    mrr_cents: int
    from_id: int | None
    from_name: str
    to_id: int
    to_name: str


def suggestions(user, capacity: Capacity | None = None, data: dict | None = None) -> list[Suggestion]:
    """A deterministic greedy proposal: accounts without a CSM first (largest MRR first), then the overloaded
    CSMs from the most loaded down. From an MRR-overloaded CSM the smallest account that clears the excess
    moves (else the largest that fits somewhere); from an account-overloaded one the smallest MRR first
    (the least disruption). Each account goes to the CSM (role csm) it leaves least loaded, and only if it
    keeps them within both the segment and the MRR capacity; a source nothing fits anywhere is left as is.
    `data` is an `overview` the caller already has (the page); the proposal works on copies of its loads."""
    capacity = capacity or (data["capacity"] if data else Capacity.current())
    data = data or overview(user, capacity)
    loads = {load.user_id: Load(load.name, load.user_id, dict(load.accounts), load.mrr_cents, load.capacity,
                                load.role) for load in data["loads"]}
    targets = [load for load in loads.values() if load.role == "csm"]
    rows = db.session.execute(scoped(user, Account, Account.id, Account.name, Account.segment, Account.mrr_cents,
                                     Account.csm_id).order_by(Account.id)).all()
    by_owner: dict = {}
    for row in rows:
        if row.csm_id is None or row.csm_id in loads:
            by_owner.setdefault(row.csm_id, []).append(row)
    out: list[Suggestion] = []

    def place(row, source: Load | None) -> bool:
        fitting = [t for t in targets if t is not source and t.fits(row.segment, row.mrr_cents)]
        if not fitting:
            return False
        best = min(fitting, key=lambda t: (_after(t, row), t.name, t.user_id))
        out.append(Suggestion(row.id, row.name, row.segment, row.mrr_cents, source.user_id if source else None,
                              source.name if source else "Sem CSM", best.user_id, best.name))
        best.add(row.segment, row.mrr_cents)
        if source is not None:
            source.add(row.segment, row.mrr_cents, sign=-1)
        return True

    for row in sorted(by_owner.get(None, []), key=lambda r: (-r.mrr_cents, r.id)):
        place(row, None)
    for source in sorted((l for l in loads.values() if l.overloaded), key=lambda l: (-l.load_pct, l.name, l.user_id)):
        pool = list(by_owner.get(source.user_id, []))
        while source.overloaded and pool:
            picked = _pick(source, pool, targets)
            if picked is None:
                break
            pool.remove(picked)
            place(picked, source)
    return out


def _after(target: Load, row) -> Fraction:
    return max(target.account_fraction + Fraction(1, target.capacity.per(row.segment)),
               Fraction(target.mrr_cents + row.mrr_cents, target.capacity.mrr_per_csm_cents))


def _pick(source: Load, pool: list, targets: list[Load]):
    placeable = [r for r in pool if any(t is not source and t.fits(r.segment, r.mrr_cents) for t in targets)]
    if not placeable:
        return None
    excess = source.mrr_cents - source.capacity.mrr_per_csm_cents
    if excess > 0:
        clearing = [r for r in placeable if r.mrr_cents >= excess]
        if clearing:
            return min(clearing, key=lambda r: (r.mrr_cents, r.id))
        return max(placeable, key=lambda r: (r.mrr_cents, -r.id))
    return min(placeable, key=lambda r: (r.mrr_cents, r.id))


# ---- bulk reassignment ------------------------------------------------------------------------------------

def assignable_csms(user) -> list[User]:
    """Who a leader may hand accounts to: active CSMs and leaders within their scope."""
    return queries.team_csms(user)


def account_rows(user, csm: str = "", segment: str = "", limit: int = 300) -> list[Account]:
    stmt = scoped(user, Account).outerjoin(User, User.id == Account.csm_id)
    if csm == "none":
        stmt = stmt.where(Account.csm_id.is_(None))
    elif csm.isdigit():
        stmt = stmt.where(Account.csm_id == int(csm))
    if segment in SEGMENTS:
        stmt = stmt.where(Account.segment == segment)
    stmt = stmt.order_by(User.name.is_(None).desc(), User.name, Account.name, Account.id).limit(limit)
    return list(db.session.execute(stmt).scalars())


def is_row_id(text: str) -> bool:
    """A row id the database can hold (a longer number is no row, and would overflow the query)."""
    return normalize.row_id(text) is not None


def reassign(user, account_ids, csm_id) -> list[Account]:
    """Hand the given accounts to one CSM, all or nothing: a leader within their scope (a CSM cannot), the
    target an active CSM/leader they can see, every account in their scope. Each move is audited and
    published (timeline, rules); the account's pending time rules follow the new owner."""
    if getattr(user, "role", None) not in REASSIGNERS:
        raise ServiceError({"csm_id": "Só líderes de CS podem reatribuir contas."})
    errors = {}
    target = None
    text = str(csm_id or "").strip()
    if is_row_id(text):
        visible = visible_user_ids(user)
        stmt = select(User).where(User.id == int(text), User.role.in_(("csm", "cs_leader")), User.active.is_(True))
        if visible is not None:
            stmt = stmt.where(User.id.in_(visible))
        target = db.session.execute(stmt).scalar_one_or_none()
    if target is None:
        errors["csm_id"] = "Escolha um CSM ativo da sua equipe."
    ids = []
    for raw in account_ids or []:
        if not is_row_id(str(raw).strip()):
            errors["account_ids"] = "Seleção de contas inválida."
            break
        ids.append(int(raw))
    ids = sorted(set(ids))
    if not ids and "account_ids" not in errors:
        errors["account_ids"] = "Selecione ao menos uma conta."
    elif len(ids) > MAX_REASSIGN:
        errors["account_ids"] = f"Selecione no máximo {MAX_REASSIGN} contas por vez."
    accounts = []
    if ids and "account_ids" not in errors:
        accounts = list(db.session.execute(scoped(user, Account).where(Account.id.in_(ids))
                                           .order_by(Account.id).with_for_update()).scalars())
        missing = sorted(set(ids) - {a.id for a in accounts})
        if missing:
            errors["account_ids"] = ("Conta(s) fora da sua carteira ou inexistente(s): "
                                     + ", ".join(f"#{i}" for i in missing) + ".")
    if errors:
        raise ServiceError(errors)
    moved = []
    for account in accounts:
        if account.csm_id == target.id:
            continue
        previous = account.csm
        account.csm_id = target.id
        account.csm = target
        audit("account.reassigned", account, user=user, from_csm_id=previous.id if previous else None,
              to_csm_id=target.id)
        publish("account.reassigned", account, actor=user, de=previous.name if previous else "Sem CSM",
                para=target.name)
        reschedule(account)
        moved.append(account)
    db.session.flush()
    return moved


def apply_suggestions(user) -> list[Account]:
    """Apply the whole current proposal in one transaction (recomputed here: it is deterministic, so it is
    the one the page showed unless the book changed meanwhile)."""
    by_target: dict = {}
    for s in suggestions(user):
        by_target.setdefault(s.to_id, []).append(s.account_id)
    if not by_target:
        raise ServiceError({"account_ids": "Nenhuma sugestão a aplicar: as carteiras cabem na capacidade."})
    moved = []
    for target_id, ids in sorted(by_target.items()):
        moved += reassign(user, ids, target_id)
    return moved
