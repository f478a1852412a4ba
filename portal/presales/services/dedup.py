"""Duplicate blocking (regras de bloqueio): which open or recently closed lead a contact already has."""
from datetime import timedelta

from sqlalchemy import delete, select

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import Lead, LeadContactKey, PresalesSettings


def contact_keys(email: str | None, phone: str | None, development_id: int | None,
                 settings: PresalesSettings) -> list[tuple[str, int]]:
    """Normalized keys (the caller normalizes e-mail/phone); scope 0 means "any development"."""
    scope = (development_id or 0) if settings.dedup_same_development_only else 0
    keys = []
    if email:
        keys.append((f"email:{email}", scope))
    if phone:
        keys.append((f"phone:{phone}", scope))
    return keys


def _blocks(lead: Lead, settings: PresalesSettings) -> bool:
    if lead.status == "open":
        return True
    cutoff = utcnow() - timedelta(days=settings.dedup_closed_days or 0)
    return lead.closed_at is not None and lead.closed_at >= cutoff


def find_blocking(keys: list[tuple[str, int]], settings: PresalesSettings) -> Lead | None:
    """The lead that blocks these keys, or None. Keys held by leads closed too long ago are released."""
    if not keys:
        return None
    rows = db.session.execute(
        select(LeadContactKey, Lead).join(Lead, Lead.id == LeadContactKey.lead_id)
        .where(db.tuple_(LeadContactKey.key, LeadContactKey.scope).in_(keys))
        .order_by(Lead.id)).all()
    stale = []
    for key_row, lead in rows:
        if _blocks(lead, settings):
            return lead
        stale.append(key_row.id)
    if stale:
        db.session.execute(delete(LeadContactKey).where(LeadContactKey.id.in_(stale)))
    return None


def take_keys(lead: Lead, keys: list[tuple[str, int]]) -> None:
    """A forced new lead holds the keys from now on (the old lead stops blocking)."""
    if keys:
        db.session.execute(delete(LeadContactKey).where(db.tuple_(LeadContactKey.key, LeadContactKey.scope).in_(keys)))
    for key, scope in keys:
        db.session.add(LeadContactKey(key=key, scope=scope, lead_id=lead.id))
