"""Benchmark: the time-rule sweep's cost follows the number of DUE items, not the number of records.

100,000 records with due items, 1,000 of them due: time one sweep. Baseline, same run: the same
sweep over a table of only 1,000 items (all due) — the ratio should stay near 1 — and, for scale,
reading every pending item without the index (what a naive sweep would do).

    .venv/bin/python bench/sweep.py            # SQLite in a temp dir
    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... .venv/bin/python bench/sweep.py
"""
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import delete, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.automation import engine  # noqa: E402
from portal.automation.models import DueItem, Notification, Rule  # noqa: E402
from portal.extensions import db  # noqa: E402

TOTAL, DUE = 100_000, 1_000


def populate(total: int, due: int, now: datetime) -> None:
    db.session.execute(delete(Notification))
    db.session.execute(delete(DueItem))
    db.session.execute(delete(Rule))
    db.session.execute(delete(User))
    db.session.commit()
    rule = Rule(name="Bench", active=True, subject_type="user", trigger="time", date_field="created_at",
                offset_minutes=60, conditions=[], quiet_hours=False,
                actions=[{"type": "notify", "to": "owner", "subject": "Lembrete {{ user.name }}", "body": ""}])
    db.session.add(rule)
    db.session.commit()
    created = now - timedelta(days=1)
    for start in range(0, total, 10_000):
        rows = [{"id": i + 1, "name": f"Pessoa {i}", "email": f"p{i}@bench.local", "role": "broker",
                 "password_hash": "", "active": True, "created_at": created, "updated_at": created}
                for i in range(start, min(total, start + 10_000))]
        db.session.execute(insert(User), rows)
        items = [{"rule_id": rule.id, "subject_type": "user", "subject_id": i + 1, "anchor_at": created,
                  "due_at": now - timedelta(minutes=1) if i % (total // due) == 0 else now + timedelta(days=1 + i % 300),
                  "fired": 0} for i in range(start, min(total, start + 10_000))]
        db.session.execute(insert(DueItem), items)
    db.session.commit()
    # anchors must match the records for the sweep to fire (not "date moved")
    db.session.execute(User.__table__.update().values(created_at=created))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # fresh bulk load: give the planner its statistics
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE users, due_items")
    db.session.close()


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
                      or f"sqlite:///{os.environ['PORTAL_INSTANCE_DIR']}/bench.db"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        now = datetime.now(timezone.utc).replace(microsecond=0)

        populate(DUE, DUE, now)
        small, fired_small = timed(lambda: engine.sweep_due(now))

        populate(TOTAL, DUE, now)
        big, fired_big = timed(lambda: engine.sweep_due(now))
        notified = db.session.query(Notification).count()
        db.session.close()
        naive, _ = timed(lambda: [i for i in db.session.execute(select(DueItem)).scalars() if i.due_at <= now])
        db.session.close()

    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    print(f"sweep, {TOTAL:,} records / {DUE:,} due : {big:7.3f} s  (fired {fired_big}, notifications {notified})")
    print(f"baseline, {DUE:,} records / {DUE:,} due  : {small:7.3f} s  (fired {fired_small})")
    print(f"ratio big/baseline                   : {big / small:7.2f}  (near 1 = cost follows due items)")
    print(f"for scale: loading all {TOTAL:,} items    : {naive:7.3f} s  (what an unindexed sweep would read)")


if __name__ == "__main__":
    main()
