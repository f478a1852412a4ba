"""Benchmark: pre-sales pages with 200,000 leads — the Kanban board's first paint, the dashboard, and the
SLA sweep — next to a trivial page of the same app (/healthz: one SELECT 1 and a Redis PING).

Bulk-inserts (core inserts) a realistic year of leads: 4 teams of 10 brokers plus 3 SDRs under a head of
sales, 5 developments, every channel and media, stages spread like a real funnel (a third lost with a
reason), first responses mostly within the SLA, agendamentos and some negotiations. Then, with the Flask
test client, times 50 requests of each page as the admin (sees everything) and as a team manager (scope
subquery), and 50 sweeps with nothing due plus one sweep with 500 clocks due.

    .venv/bin/python bench/presales_pages.py                  # SQLite in a temp dir, embedded Redis
    .venv/bin/python bench/presales_pages.py 50000            # fewer leads
    .venv/bin/python bench/presales_pages.py --try-indexes    # then again with the suggested indexes
    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... .venv/bin/python bench/presales_pages.py

With DATABASE_URL the schema is migrated in place and the rows are added there: use a scratch database.
"""
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
os.environ.setdefault("SECRET_KEY", "bench")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, insert, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

REQUESTS = 50
PASSWORD = "bench-senha-123"
CHUNK = 10_000
# stage name → share of the leads (the rest of the funnel's shape comes from here)
STAGE_SHARE = {"Novo (SDR)": .06, "Em qualificação (SDR)": .05, "Atendimento": .22, "Visita agendada": .10,
               "Proposta": .06, "Ganho": .08, "Perdido": .43}
SUGGESTED_INDEXES = [  # what --try-indexes adds (a migration would carry the same)
    # dashboard: the period's leads (cohort) without reading the whole table
    "CREATE INDEX IF NOT EXISTS ix_leads_created_at ON leads (created_at)",
    # dashboard: open negotiations, only the leads that have a negotiated value
    "CREATE INDEX IF NOT EXISTS ix_leads_negotiating ON leads (negotiated_value_cents) "
    "WHERE negotiated_value_cents IS NOT NULL",
    # board: each column's first cards, newest in the stage first, without sorting the whole stage
    "CREATE INDEX IF NOT EXISTS ix_leads_stage_entered ON leads (stage_id, stage_entered_at)",
    # board: the per-column counts from the index alone (scope columns included)
    "CREATE INDEX IF NOT EXISTS ix_leads_board ON leads (pipeline_id, stage_id, owner_id, sdr_id)",
]


def people():
    from portal.accounts.models import Team
    from portal.accounts.services import create_user

    def user(name, role, team=None):
        n = next(seq)
        return create_user({"name": name, "email": f"{role}{n}@bench.exemplo.com.br", "role": role,
                            "phone": "", "team_id": team.id if team else None}, password=PASSWORD)
    seq = iter(range(1, 10_000))
    admin = user("Ana Admin", "admin")
    head = user("Marcos Diretor", "manager")
    root = Team(name="Comercial", manager_id=head.id)
    db.session.add(root)
    db.session.flush()
    head.team_id = root.id
    sdrs = [user(f"SDR {i}", "sdr", root) for i in range(3)]
    brokers, managers = [], []
    for t in range(4):
        manager = user(f"Gestor {t}", "manager")
        team = Team(name=f"Equipe {t}", parent_id=root.id, manager_id=manager.id)
        db.session.add(team)
        db.session.flush()
        manager.team_id = team.id
        managers.append(manager)
        brokers += [user(f"Corretor {t}.{i}", "broker", team) for i in range(10)]
    db.session.commit()
    return admin, head, managers, sdrs, brokers


def populate(total: int, now: datetime):
    from portal.presales.demo import ensure_defaults
    from portal.presales.models import Channel, Lead, LossReason, Media, Schedule
    from portal.realestate.models import Development

    pipeline = ensure_defaults()
    devs = [Development(name=f"Residencial Bench {i}", slug=f"bench-{i}", city="São Paulo", state="SP")
            for i in range(5)]
    db.session.add_all(devs)
    db.session.commit()
    admin, head, managers, sdrs, brokers = people()
    stages = {s.name: s for s in pipeline.stages}
    names, weights = list(STAGE_SHARE), list(STAGE_SHARE.values())
    channels = db.session.execute(select(Channel.id)).scalars().all()
    media = db.session.execute(select(Media.id)).scalars().all()
    reasons = db.session.execute(select(LossReason.id)).scalars().all()
    rnd = random.Random(42)
    year = timedelta(days=365).total_seconds()
    schedules, number = [], 0
    for start in range(0, total, CHUNK):
        rows = []
        for i in range(start, min(total, start + CHUNK)):
            created = now - timedelta(seconds=year * (1 - ((i + 1) / total) ** 0.9))  # more leads lately
            stage = stages[rnd.choices(names, weights)[0]]
            sdr_stage = stage.is_sdr
            owner = rnd.choice(sdrs) if sdr_stage else rnd.choice(brokers)
            assigned = created + timedelta(seconds=rnd.randint(5, 600))
            due = assigned + timedelta(minutes=30 if sdr_stage else 60)
            answered = rnd.random() < 0.82 and assigned < now - timedelta(hours=2)
            first = assigned + timedelta(minutes=rnd.lognormvariate(3.2, 1.1)) if answered else None
            status = "lost" if stage.is_lost else "won" if stage.is_won else "open"
            closed = created + timedelta(days=rnd.randint(1, 40)) if status != "open" else None
            entered = min(now, created + timedelta(days=rnd.randint(0, 20)))
            number += 1
            rows.append({
                "number": f"B{number:07d}", "name": f"Cliente {number}", "email": f"cliente{number}@bench.exemplo.com.br",
                "phone": f"+55119{number:08d}", "development_id": rnd.choice(devs).id, "channel_id": rnd.choice(channels),
                "media_id": rnd.choice(media) if rnd.random() < .9 else None, "pipeline_id": pipeline.id,
                "stage_id": stage.id, "status": status, "owner_id": owner.id,
                "sdr_id": rnd.choice(sdrs).id if rnd.random() < .4 else None, "message": "", "extra": {}, "custom": {},
                "interest_level": "", "budget_range": "", "fit": "", "timeframe": "", "qualification_score": 0,
                "loss_reason_id": rnd.choice(reasons) if status == "lost" else None,
                "assigned_at": assigned, "stage_entered_at": entered, "first_response_due": due,
                "first_response_at": first, "last_contact_at": first, "closed_at": closed,
                # every past clock was already swept: the due index holds only the recent ones
                "sla_breached_at": due if first is None and due < now and status == "open" else None,
                "handoff_attempts": 0,
                "negotiated_value_cents": rnd.randint(250_000, 1_500_000) * 100
                if stage.name == "Proposta" and rnd.random() < .5 else None,
                "sales_status": "Em negociação" if stage.name == "Proposta" else None,
                "created_at": created, "updated_at": entered,
            })
        ids_before = db.session.scalar(select(func.coalesce(func.max(Lead.id), 0)))
        db.session.execute(insert(Lead), rows)
        for k, row in enumerate(rows):
            if row["stage_id"] == stages["Visita agendada"].id and rnd.random() < .8:
                when = row["created_at"] + timedelta(days=rnd.randint(1, 15), hours=rnd.randint(0, 8))
                schedules.append({"lead_id": ids_before + k + 1, "owner_id": row["owner_id"], "kind": "visit",
                                  "scheduled_at": when, "note": "", "done_at": when if when < now and rnd.random() < .7
                                  else None, "created_at": row["created_at"], "updated_at": row["created_at"]})
        db.session.commit()
    for k in range(0, len(schedules), CHUNK):
        db.session.execute(insert(Schedule), schedules[k:k + CHUNK])
    db.session.commit()
    analyze()
    return admin, managers[0]


def analyze():
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE leads, lead_schedules, users, teams")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def timed(fn, n=REQUESTS):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def fmt(times) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return f"p50 {1000 * statistics.median(times):8.1f} ms   p95 {1000 * p95:8.1f} ms"


def get(client, url):
    def fn():
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    return fn


def pages(app):
    paths = {"healthz": "/healthz", "dashboard": "/pre-vendas/painel/"}
    if "presales.board" in app.view_functions:
        paths["board"] = "/pre-vendas/funil"
    elif "presales.leads" in app.view_functions:
        paths["leads list (no board yet)"] = "/pre-vendas/leads"
    return paths


def run_pages(app, users, label):
    results = []
    for who, user in users:
        client = app.test_client()
        r = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        for name, path in pages(app).items():
            if name == "healthz" and who != users[0][0]:
                continue
            get(client, path)()  # warm up (templates, statement cache)
            results.append((f"{name} ({who})" if name != "healthz" else name, timed(get(client, path))))
    print(f"\n{label}")
    for name, times in results:
        print(f"  {name:<34} {fmt(times)}")


def run_sweep(now):
    from portal.presales.models import Lead
    from portal.presales.services import sla
    with_nothing_due = timed(lambda: sla.sweep(now))
    # up to 500 open clocks come due: one sweep breaches them (narrative + outbox event each)
    ids = db.session.execute(select(Lead.id).where(Lead.status == "open", Lead.first_response_at.is_(None))
                             .order_by(Lead.id.desc()).limit(500)).scalars().all()
    db.session.execute(Lead.__table__.update().where(Lead.id.in_(ids)).values(
        sla_breached_at=None, first_response_due=now - timedelta(minutes=5)))
    db.session.commit()
    start = time.perf_counter()
    done = sla.sweep(now)
    busy = time.perf_counter() - start
    print("\nSLA sweep (portal.presales.services.sla.sweep)")
    label = f"nothing due, {REQUESTS} runs"
    print(f"  {label:<34} {fmt(with_nothing_due)}")
    label = f"{len(ids)} clocks due, one run"
    print(f"  {label:<34}{1000 * busy:8.1f} ms   (breached {done['first_response']})")


def explain():
    """Plans of the statements that dominate the two pages (the dashboard's cohort and negotiations, the
    board's column count and first cards)."""
    from portal.presales.models import Lead, Stage
    start = datetime.now(timezone.utc) - timedelta(days=30)
    stage = db.session.scalar(select(Stage.id).where(Stage.name == "Perdido"))
    statements = {
        "dashboard cohort": select(Lead.stage_id, Lead.channel_id, Lead.owner_id).where(Lead.created_at >= start),
        "dashboard negotiations": select(Lead.id).where(Lead.status == "open", Lead.negotiated_value_cents.is_not(None))
        .order_by(Lead.negotiated_value_cents.desc()).limit(10),
        "board column count": select(Lead.stage_id, func.count()).where(Lead.pipeline_id == 1).group_by(Lead.stage_id),
        "board column cards": select(Lead.id).where(Lead.stage_id == stage).order_by(Lead.stage_entered_at.desc())
        .limit(21),
    }
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    print("\nplans:")
    for name, stmt in statements.items():
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(row[-1]) for row in db.session.execute(text(prefix + sql)))
        print(f"  {name:<24} {plan[:150]}")
    db.session.rollback()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total = int(args[0]) if args else 200_000
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
                      or f"sqlite:///{os.environ['PORTAL_INSTANCE_DIR']}/bench.db",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        now = datetime.now(timezone.utc)
        start = time.perf_counter()
        admin, manager = populate(total, now)
        from portal.presales.models import Lead
        count = db.session.scalar(select(func.count(Lead.id)))
        print(f"database: {db.engine.dialect.name}; {count:,} leads inserted in {time.perf_counter() - start:.1f} s")
        users = [("admin", admin), ("team manager", manager)]
        run_pages(app, users, f"{REQUESTS} requests each (Flask test client, in process)")
        explain()
        if "--try-indexes" in sys.argv:
            for ddl in SUGGESTED_INDEXES:
                db.session.execute(text(ddl))
            db.session.commit()
            analyze()
            run_pages(app, users, "again with the suggested indexes: " + ", ".join(
                d.split(" ON ")[0].rsplit(" ", 1)[1] for d in SUGGESTED_INDEXES))
            explain()
        run_sweep(now)
        db.session.remove()


if __name__ == "__main__":
    main()
