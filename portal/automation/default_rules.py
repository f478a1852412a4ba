"""Default rules a module ships (personalization's question, survey, appointment and signature messages,
pre-sales' satisfaction survey): each is seeded once, under a key, and never again — an admin may rename,
edit or delete it (the key stays, the rule id goes NULL). The table keeps the name it was born with."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class DefaultRule(db.Model):
    __tablename__ = "personalize_default_rules"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def seed(specs: dict[str, dict]) -> list[str]:
    """Create the rules of `specs` (key → rule data for save_rule) not seeded yet; returns the keys created.
    A rule whose event is not registered yet is left for a later run."""
    from portal.automation.rules import save_rule
    from portal.automation.subjects import EVENT_TYPES
    seeded = set(db.session.execute(select(DefaultRule.key)).scalars())
    created = []
    for key, data in specs.items():
        if key in seeded or (data.get("event_type") and data["event_type"] not in EVENT_TYPES):
            continue
        try:
            with db.session.begin_nested():  # a concurrent seed of the same key loses here, rule and all
                rule = save_rule(dict(data))
                db.session.add(DefaultRule(key=key, rule_id=rule.id))
                db.session.flush()
        except IntegrityError:
            continue
        created.append(key)
    return created


def rule_for(key: str):
    from portal.automation.models import Rule
    row = db.session.get(DefaultRule, key)
    return db.session.get(Rule, row.rule_id) if row and row.rule_id else None
