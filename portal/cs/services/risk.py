"""The CSM's manual churn-risk flag: it caps the health score at once (today's score is recomputed)."""
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.cs.models import Account
from portal.dbtypes import utcnow


def set_risk_flag(account: Account, flagged: bool, reason: str, user=None) -> Account:
    from portal.cs.services.health import recompute
    reason = (reason or "").strip()
    if flagged and not reason:
        raise ServiceError({"reason": "Conte por que a conta está em risco."})
    if bool(account.risk_flag) == flagged and (not flagged or reason == account.risk_reason):
        return account
    account.risk_flag = flagged
    account.risk_reason = reason[:2000] if flagged else ""
    account.risk_flagged_at = utcnow() if flagged else None
    audit("account.risk_flagged" if flagged else "account.risk_cleared", account, user=user, reason=reason[:200])
    publish("account.risk_flagged" if flagged else "account.risk_cleared", account, actor=user, motivo=reason[:200])
    recompute(account_ids=[account.id])
    return account
