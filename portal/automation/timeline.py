"""One timeline for every record with a history: its events, its messages and whatever the module adds
(narratives, phase changes...). Rendered by templates/components/timeline.html."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.automation.models import Delivery, Event
from portal.automation.subjects import event_label
from portal.extensions import db


@dataclass
class Entry:
    at: datetime
    kind: str          # event | message | narrative | ...
    title: str
    body: str = ""
    actor: str | None = None
    status: str | None = None


def timeline(subject_type: str, subject_id: int, extra: list[Entry] = (), limit: int = 200,
             events: bool = True) -> list[Entry]:
    """`events=False` when the module already narrates every event (leads), so nothing shows twice."""
    found = [] if not events else db.session.execute(select(Event).where(Event.subject_type == subject_type, Event.subject_id == subject_id)
                                .order_by(Event.created_at.desc()).limit(limit)).scalars()
    deliveries = db.session.execute(select(Delivery).where(Delivery.subject_type == subject_type,
                                                           Delivery.subject_id == subject_id)
                                    .order_by(Delivery.created_at.desc()).limit(limit)).scalars()
    entries = [Entry(e.created_at, "event", event_label(e.type),
                     actor=e.actor.name if e.actor else None) for e in found]
    entries += [Entry(d.created_at, "message", f"{d.channel_label} para {d.recipient_name or d.recipient}",
                      body=d.subject or d.body[:200], status=d.status_label) for d in deliveries]
    entries += list(extra)
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]
