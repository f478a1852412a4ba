"""CSM capacity: each CSM's book against the default capacity (1 CSM : 30 Enterprise accounts, 1 : 40 ME/PME,
R$ 100.000 of MRR) and how many CSMs the whole book needs. A CSM's load is the larger of the account load
(enterprise/30 + smb/40) and the MRR load (MRR / R$ 100.000), as a percentage of one CSM."""
import math
from dataclasses import dataclass

from sqlalchemy import func

from portal.accounts.scope import scoped
from portal.cs import queries
from portal.cs.models import Account
from portal.extensions import db

ACCOUNTS_PER_CSM = {"enterprise": 30, "smb": 40}
MRR_PER_CSM_CENTS = 10_000_000  # R$ 100.000,00


@dataclass
class Load:
    name: str
    user_id: int | None
    accounts: dict
    mrr_cents: int

    @property
    def account_load(self) -> float:
        return sum(n / ACCOUNTS_PER_CSM.get(seg, ACCOUNTS_PER_CSM["smb"]) for seg, n in self.accounts.items())

    @property
    def mrr_load(self) -> float:
        return self.mrr_cents / MRR_PER_CSM_CENTS

    @property
    def load_pct(self) -> int:
        return round(max(self.account_load, self.mrr_load) * 100)

    @property
    def total_accounts(self) -> int:
        return sum(self.accounts.values())


def overview(user) -> dict:
    stmt = (scoped(user, Account, Account.csm_id, Account.segment, func.count(Account.id), func.sum(Account.mrr_cents))
            .group_by(Account.csm_id, Account.segment))
    by_csm: dict = {}
    for csm_id, segment, count, mrr in db.session.execute(stmt):
        entry = by_csm.setdefault(csm_id, {"accounts": {}, "mrr": 0})
        entry["accounts"][segment] = count
        entry["mrr"] += int(mrr or 0)
    names = {u.id: u.name for u in queries.team_csms(user)}
    loads = [Load(names.get(uid, "—"), uid, by_csm.get(uid, {}).get("accounts", {}), by_csm.get(uid, {}).get("mrr", 0))
             for uid in names]
    loads.sort(key=lambda load: -load.load_pct)
    unassigned = by_csm.get(None)
    total = Load("Total", None, {}, 0)
    for entry in by_csm.values():
        for seg, n in entry["accounts"].items():
            total.accounts[seg] = total.accounts.get(seg, 0) + n
        total.mrr_cents += entry["mrr"]
    needed = math.ceil(max(total.account_load, total.mrr_load) - 1e-9) if total.total_accounts else 0
    return {"loads": loads, "total": total, "needed": needed, "have": len(names),
            "unassigned": Load("Sem CSM", None, unassigned["accounts"], unassigned["mrr"]) if unassigned else None}
