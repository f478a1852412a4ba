"""The load scenario shared by the concurrency tests: 200 API intakes from a real web process, a real
worker beside it, and re-entries of the same people arriving at the same moment."""
import json
import os
import statistics
from collections import Counter

import pytest
from sqlalchemy import func, select

from bench import load
from portal.automation.models import Event, Rule
from portal.extensions import db
from portal.accounts import apiclients
from portal.presales.demo import ensure_defaults
from portal.presales.models import Lead, Narrative, Queue, QueueMember
from tests.factories import make_development, make_user

PEOPLE = 120
REPEATED = 40  # the first 40 people post three times, always with their phone: one lead each, two re-entries


def bodies(slug: str) -> list[bytes]:
    """Each repeated person's three posts sit side by side, so `load.drive` hands them to different
    clients that send them at the same moment: the duplicates collide, they do not queue. The copies
    write the phone differently and one drops the e-mail, but all share the phone's dedup key."""
    def person(i, phone, email=True):
        return json.dumps({"name": f"Pessoa {i}", "phone": phone, "development": slug, "media": "google",
                           "message": "Quero visitar", **({"email": f"Pessoa{i}@Exemplo.com.br"} if email else {})}
                          ).encode()
    posts = []
    for i in range(REPEATED):
        posts += [person(i, f"+55 11 98{i:07d}"), person(i, f"(11) 98{i // 10000:03d}-{i % 10000:04d}", email=False),
                  person(i, f"011 98{i:07d}")]
    posts += [person(i, f"+55 11 98{i:07d}") for i in range(REPEATED, PEOPLE)]
    return posts


@pytest.fixture
def intake_setup(app):
    """Pre-sales defaults, a development, an offline roleta of 4 brokers and an API token."""
    ensure_defaults()
    dev = make_development("Residencial Concorrência", slug="concorrencia")
    brokers = [make_user("broker") for _ in range(4)]
    queue = Queue(name="Roleta", kind="broker", mode="offline")
    queue.members = [QueueMember(user_id=u.id, position=i) for i, u in enumerate(brokers)]
    db.session.add(queue)
    _, token, _ = apiclients.create_client("Site", scopes=["leads:write"])
    db.session.commit()
    return {"token": token, "slug": dev.slug, "brokers": brokers}


def notify_owner_on_intake_events() -> None:
    """Rules on the intake events, so the worker writes (a notification per event) while the web writes leads."""
    for event_type in ("lead.created", "lead.reentry"):
        db.session.add(Rule(name=f"Avisar o responsável: {event_type}", active=True, subject_type="lead",
                            trigger="event", event_type=event_type, conditions=[],
                            actions=[{"type": "notify", "to": "owner", "subject": "{{ lead.number }}",
                                      "body": "{{ lead.name }}"}]))
    db.session.commit()


def post_all(port: int, token: str, slug: str, clients: int) -> dict:
    """Post the scenario's leads from `clients` keep-alive clients; the count of answers by status."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    _, statuses, _ = load.drive(port, [("POST", "/api/v1/leads", b) for b in bodies(slug)], clients, headers)
    return statuses


def assert_leads_deduplicated_and_fair(statuses: dict, brokers) -> None:
    """One lead per person, every repeat a re-entry on it, and the roleta even across the brokers."""
    assert statuses == {201: PEOPLE, 200: 2 * REPEATED}, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Lead.id))) == PEOPLE
    assert db.session.scalar(select(func.count(Narrative.id)).where(Narrative.kind == "reentry")) == 2 * REPEATED
    owners = Counter(db.session.execute(select(Lead.owner_id)).scalars())
    assert set(owners) == {b.id for b in brokers}
    assert max(owners.values()) - min(owners.values()) <= 1, owners


def log_path(app, name: str) -> str:
    return os.path.join(app.config["INSTANCE_DIR"], name)


def wait_until_every_event_is_processed(timeout: float) -> list:
    """Poll the outbox until no event is left unprocessed, `timeout` s at most; then every event row."""
    def done():
        db.session.rollback()  # a fresh snapshot: the worker processes commit on their own connections
        return db.session.scalar(select(func.count(Event.id)).where(Event.processed_at.is_(None))) == 0
    try:
        load.wait_for(done, timeout, "the workers to process every event")
    except TimeoutError:
        pass  # what is left is reported with the figures below
    return db.session.execute(select(Event).order_by(Event.id)).scalars().all()


def assert_processed_promptly(events: list, max_lag: float, note: str = "") -> None:
    """Every event processed within `max_lag` s of being written; prints the figures (pytest -s shows them).
    Pass the events written under load: the fixtures' own events wait in the queue for the workers to start."""
    lags = {e.id: None if e.processed_at is None else (e.processed_at - e.created_at).total_seconds() for e in events}
    done = sorted(lag for lag in lags.values() if lag is not None)
    print(f"\n{len(events)} events, {len(events) - len(done)} unprocessed; lag median "
          f"{statistics.median(done) if done else 0:.2f} s, max {done[-1] if done else 0:.2f} s; {note}")
    late = [(e.id, e.type, lags[e.id]) for e in events if lags[e.id] is None or lags[e.id] > max_lag]
    assert {e.type for e in events} >= {"lead.created", "lead.reentry", "lead.assigned"}
    assert late == [], f"{len(late)} of {len(events)} events unprocessed or late (first: {late[:5]})"
