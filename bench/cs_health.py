"""Benchmark: customer-success health at scale — 10,000 accounts × 365 days of usage (2 features each,
7.3 million usage rows), 250 CSMs of 40 accounts under one CS leader, the 13 default alert rules.

Figures:
  * the nightly recompute (`portal.cs.services.health.recompute`) on the first night (every score new; the
    risky accounts' churn alerts armed), on an ordinary night and on the next Monday (a new usage week);
  * the work-list page (/sucesso/pendencias) for a CSM (40 accounts) and for the leader (all 10,000 in
    scope), next to /healthz in the same run as the baseline of a trivial page.

    .venv/bin/python bench/cs_health.py             # SQLite in a temp dir
    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... .venv/bin/python bench/cs_health.py
    ACCOUNTS=2000 .venv/bin/python bench/cs_health.py   # a smaller run
"""
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from zoneinfo import ZoneInfo

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, insert, select  # noqa: E402
from validate_docbr import CNPJ  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import Team, User  # noqa: E402
from portal.automation import engine  # noqa: E402
from portal.automation.models import DueItem, Task  # noqa: E402
from portal.cs.models import Account, HealthScore, KeyFeature, Product, UsageMetric, account_products  # noqa: E402
from portal.extensions import db  # noqa: E402

ACCOUNTS = int(os.environ.get("ACCOUNTS", "10000"))
PER_CSM = 40
DAYS = 365
FEATURES = ("aprovacao", "relatorio_economia")
SP = ZoneInfo("America/Sao_Paulo")
TODAY = date(2026, 11, 23)  # a Monday
PASSWORD = "segredo123"


def morning(day: date) -> datetime:
    return datetime.combine(day, dtime(9), tzinfo=SP).astimezone(timezone.utc)


def populate():
    rng = random.Random(42)
    now = datetime.now(timezone.utc)
    leader = User(name="Líder de CS", email="lider@bench.com.br", role="cs_leader", active=True)
    leader.set_password(PASSWORD)
    db.session.add(leader)
    db.session.flush()
    team = Team(name="Sucesso do Cliente", manager_id=leader.id)
    db.session.add(team)
    db.session.flush()
    leader.team_id = team.id
    csms = []
    for i in range(max(1, ACCOUNTS // PER_CSM)):
        user = User(name=f"CSM {i:03d}", email=f"csm{i}@bench.com.br", role="csm", active=True, team_id=team.id,
                    password_hash=leader.password_hash)
        csms.append(user)
    db.session.add_all(csms)
    product = Product(name="Despesas", active=True)
    db.session.add(product)
    db.session.flush()
    db.session.add_all([KeyFeature(product_id=product.id, code=c, name=c) for c in (*FEATURES, "cartao")])
    db.session.commit()

    cnpjs = set()
    generator = CNPJ()
    while len(cnpjs) < ACCOUNTS:
        cnpjs.add(generator.generate())
    phases = ["onboarding", "adoption", "ongoing", "ongoing", "ongoing", "renewal"]
    rows = []
    for i, cnpj in enumerate(sorted(cnpjs)):
        started = now - timedelta(days=rng.randint(5, 300))
        last_touch = now - timedelta(days=rng.randint(1, 90))
        enterprise = i % 3 == 0
        rows.append({
            "id": i + 1, "name": f"Cliente {i:05d} Ltda", "cnpj": cnpj, "employees": 150 if enterprise else 40,
            "mrr_cents": 350_000 if enterprise else 90_000, "from_competitor": False, "contact_points": 2,
            "csm_id": csms[i % len(csms)].id, "segment": "enterprise" if enterprise else "smb",
            "touch_model": "high" if enterprise else "mid", "notes": "", "phase": phases[i % len(phases)],
            "phase_started_at": started, "last_touchpoint_at": last_touch,
            "next_follow_up_at": morning((last_touch + timedelta(days=45 if enterprise else 15)).astimezone(SP).date()),
            "open_tickets": rng.choice([0, 0, 1, 3]), "sla_breaches": rng.choice([0, 0, 0, 1]),
            "last_nps": rng.choice([None, 6, 8, 10]), "days_overdue": rng.choice([0, 0, 0, 20]),
            "potential_updated_at": started, "risk_flag": i % 97 == 0, "risk_reason": "", "created_at": started,
            "updated_at": started, "last_usage_on": TODAY - timedelta(days=1)})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Account), rows[start:start + 5000])
    db.session.execute(insert(account_products), [{"account_id": r["id"], "product_id": product.id} for r in rows])
    db.session.commit()

    first_day = TODAY - timedelta(days=DAYS)
    batch = []
    for account_id in range(1, ACCOUNTS + 1):
        base = rng.randint(5, 50)
        falling = account_id % 5 == 0
        for d in range(DAYS):
            day = first_day + timedelta(days=d)
            level = base * (0.4 if falling and d >= DAYS - 10 else 1.0)
            for feature in FEATURES:
                batch.append({"account_id": account_id, "day": day, "feature": feature,
                              "count": max(0, int(level + rng.randint(-3, 3))), "received_at": now})
        if len(batch) >= 200_000:
            db.session.execute(insert(UsageMetric), batch)
            db.session.commit()
            batch = []
    if batch:
        db.session.execute(insert(UsageMetric), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cs_accounts, cs_usage")
    else:
        db.session.execute(select(func.count()).select_from(UsageMetric))
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return leader, csms


def add_week_of_usage():
    """Each account's last week again, shifted seven days forward."""
    rows = db.session.execute(select(UsageMetric.account_id, UsageMetric.day, UsageMetric.feature, UsageMetric.count)
                              .where(UsageMetric.day >= TODAY - timedelta(days=7))).all()
    now = datetime.now(timezone.utc)
    batch = [{"account_id": a, "day": d + timedelta(days=7), "feature": f, "count": c, "received_at": now}
             for a, d, f, c in rows]
    for start in range(0, len(batch), 50_000):
        db.session.execute(insert(UsageMetric), batch[start:start + 50_000])
    db.session.commit()


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def page_times(client, path, runs=7):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times) * 1000


def main():
    import time_machine

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
                      or f"sqlite:///{os.environ['PORTAL_INSTANCE_DIR']}/bench.db",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        from flask_migrate import upgrade

        from portal.cs.services import alerts, health
        upgrade()
        print(f"populating {ACCOUNTS:,} accounts × {DAYS} days × {len(FEATURES)} features …", flush=True)
        load, (leader, csms) = timed(populate)
        usage_rows = db.session.scalar(select(func.count(UsageMetric.id)))
        print(f"  loaded in {load:.0f} s: {usage_rows:,} usage rows", flush=True)
        alerts.ensure_default_rules()
        db.session.commit()
        leader_id, csm_email = leader.id, csms[0].email

        with time_machine.travel(datetime.combine(TODAY, dtime(3), tzinfo=SP), tick=True):
            first, summary = timed(lambda: health.recompute(TODAY))
            db.session.commit()
            due_items = db.session.scalar(select(func.count(DueItem.id)))
            again, _ = timed(lambda: health.recompute(TODAY))
            db.session.commit()
            scores = db.session.scalar(select(func.count(HealthScore.id)))

        add_week_of_usage()  # the usage of the week in between, so the next Monday looks like a normal one
        weekly = [alerts.mapping()[k] for k in ("usage_down", "usage_up", "upsell")]
        with time_machine.travel(datetime.combine(TODAY + timedelta(days=6), dtime(12), tzinfo=SP), tick=True):
            arm, _ = timed(lambda: [engine.backfill_rule(rule.id) for rule in weekly])  # what saving a rule does
            engine.sweep_due()  # the catch-up evaluation right after arming (no usage change yet)
        with time_machine.travel(datetime.combine(TODAY + timedelta(days=7), dtime(3), tzinfo=SP), tick=True):
            monday, _ = timed(lambda: health.recompute(TODAY + timedelta(days=7)))
            db.session.commit()
        with time_machine.travel(datetime.combine(TODAY + timedelta(days=7), dtime(4, 1), tzinfo=SP), tick=True):
            due_now = db.session.scalar(select(func.count(DueItem.id)).where(DueItem.done_at.is_(None),
                                                                             DueItem.due_at <= datetime.now(timezone.utc)))
            sweep, swept = timed(engine.sweep_due)
            fired = db.session.scalar(select(func.count(Task.id)))
        with time_machine.travel(datetime.combine(TODAY, dtime(3), tzinfo=SP), tick=True):
            client = app.test_client()
            login = client.post("/login", data={"email": "lider@bench.com.br", "password": PASSWORD})
            assert login.status_code == 302, login.get_data(as_text=True)[:2000]
            leader_ms = page_times(client, "/sucesso/pendencias")
            healthz_ms = page_times(client, "/healthz")
            client.post("/logout")
            client.post("/login", data={"email": csm_email, "password": PASSWORD})
            csm_ms = page_times(client, "/sucesso/pendencias")
            healthz_csm_ms = page_times(client, "/healthz")
        print()
        print(f"database: {db.engine.dialect.name}; {ACCOUNTS:,} accounts, {usage_rows:,} usage rows, "
              f"{scores:,} health rows for {TODAY:%d/%m/%Y} (leader id {leader_id})")
        print(f"nightly recompute, first night:           {first:6.1f} s "
              f"({summary.rescheduled:,} accounts re-armed, {due_items:,} alert due items)")
        print(f"nightly recompute, ordinary night:        {again:6.1f} s")
        print(f"nightly recompute, next Monday:           {monday:6.1f} s")
        print(f"arming the 3 weekly alert rules for every account (once, when the rules are saved): {arm:.1f} s")
        print(f"Monday 04:00 sweep of the weekly alerts: {sweep:.2f} s for a batch of {swept:,} "
              f"(of {due_now:,} due; the sweep runs every minute), {fired:,} alert tasks so far")
        print(f"work list, CSM (40 accounts):              {csm_ms:6.1f} ms   /healthz baseline {healthz_csm_ms:5.1f} ms")
        print(f"work list, leader ({ACCOUNTS:,} in scope):      {leader_ms:6.1f} ms   /healthz baseline {healthz_ms:5.1f} ms")


if __name__ == "__main__":
    main()
