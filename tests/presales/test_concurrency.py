"""Real threads against PostgreSQL: fairness and duplicate blocking hold under concurrent intakes."""
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.presales.models import Lead, Narrative, QueueMember
from portal.presales.services.intake import intake
from tests.conftest import USING_POSTGRES
from tests.factories import make_user

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="SQLite has one writer at a time: the race needs "
                                                           "PostgreSQL (set DATABASE_URL)")


def run_threads(app, n, work):
    errors, barrier = [], threading.Barrier(n)

    def target(i):
        with app.app_context():
            try:
                barrier.wait()
                work(i)
            except Exception as exc:  # collected and asserted below: a thread must not fail silently
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_sixteen_concurrent_intakes_stay_fair_and_every_lead_has_an_owner(app, sales):
    extra = [make_user("broker", team=sales["south"]) for _ in range(3)]
    for i, user in enumerate(extra):
        db.session.add(QueueMember(queue_id=sales["queue"].id, user_id=user.id, position=10 + i))
    db.session.commit()

    def work(t):
        for i in range(50):
            for attempt in range(3):
                try:
                    intake({"name": f"Cliente {t}-{i}", "email": f"c{t}x{i}@exemplo.com.br",
                            "phone": f"+55119{t:02d}{i:06d}", "channel": "site", "development": "jardim-europa"})
                    db.session.commit()
                    break
                except OperationalError:  # deadlock victim: PostgreSQL asks us to retry the transaction
                    db.session.rollback()

    assert run_threads(app, 16, work) == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Lead.id))) == 800
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id.is_(None))) == 0
    counts = Counter(db.session.execute(select(Lead.owner_id)).scalars())
    assert len(counts) == 5
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    numbers = db.session.execute(select(Lead.number)).scalars().all()
    assert len(set(numbers)) == 800


def test_ten_threads_posting_the_same_phone_make_one_lead_and_nine_reentries(app, sales):
    formats = ["+55 (11) 98765-4321", "11987654321", "(11) 98765-4321", "+5511987654321", "011 98765 4321"]

    def work(i):
        intake({"name": "Fernanda", "phone": formats[i % len(formats)], "channel": "site",
                "development": "jardim-europa"})
        db.session.commit()

    assert run_threads(app, 10, work) == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Lead.id))) == 1
    assert db.session.scalar(select(func.count(Narrative.id)).where(Narrative.kind == "reentry")) == 9
