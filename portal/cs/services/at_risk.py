"""The seeded schedule rule that e-mails the weekly at-risk report (PDF) to the CS leaders every Monday at
08:00 (São Paulo). The engine's schedule sweep runs a missed Monday once when the worker returns; the
delivery keys carry the rule's slot, so a run is never sent twice. Leaders edit the address list in the rule."""
from sqlalchemy import select

from portal.accounts.models import User
from portal.automation.models import Rule
from portal.cs.reports import KEY
from portal.extensions import db

RULE_NAME = "Sucesso do cliente: contas em risco (segunda 08:00)"
CRON = "0 8 * * 1"


def leader_addresses() -> list[str]:
    return list(db.session.execute(select(User.email).where(User.role == "cs_leader", User.active.is_(True))
                                   .order_by(User.id)).scalars())


def ensure_weekly_rule(addresses: list[str] | None = None) -> Rule | None:
    """Create the rule once (idempotent by name); None when there is no leader to send it to yet."""
    existing = db.session.execute(select(Rule).where(Rule.name == RULE_NAME)).scalar_one_or_none()
    if existing is not None:
        return existing
    addresses = addresses if addresses is not None else leader_addresses()
    if not addresses:
        return None
    from portal.automation.rules import save_rule
    return save_rule({"name": RULE_NAME, "active": True, "trigger": "schedule", "cron": CRON,
                      "actions": [{"type": "report", "report": KEY, "format": "pdf", "to": "fixed",
                                   "address": ", ".join(addresses)}]})
