"""Benchmark: leads per second through POST /api/v1/leads, K concurrent keep-alive clients, as deployed.

The web app runs as `portal run --no-worker` and one `portal worker` runs beside it, both real processes
on the same database (the worker writes too: it claims and processes every event the intake publishes).
This process migrates the database and creates the pre-sales defaults, a development, an offline broker
queue with 4 brokers and an API client, then, per round, posts N distinct leads (each one a real intake:
validation, dedup keys, sequence number, queue lock, assignment, narratives, outbox events) from K threads.
Baseline, same server, same clients, same round: N GETs of /healthz (one SELECT 1 and a Redis PING) —
the ceiling this server gives any endpoint. Figures are the median of the rounds.

    .venv/bin/python bench/intake_api.py                 # SQLite in a temp dir, embedded Redis
    .venv/bin/python bench/intake_api.py 1000 16 5       # N leads, K clients, R rounds
    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... .venv/bin/python bench/intake_api.py

With DATABASE_URL the schema is migrated in place and the bench's rows are left there (each run uses
fresh contacts): point it at a scratch database. The rate limit is raised so it is paid, not hit.
"""
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import uuid

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
os.environ["PUBLIC_RATE_LIMIT"] = "1000000 per minute"  # read by this app and, through the env, the children
os.environ["API_CLIENT_RATE_LIMIT"] = "1000000 per minute"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select  # noqa: E402

from bench import load  # noqa: E402
from portal import create_app, jobs  # noqa: E402
from portal.extensions import db  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
K = int(sys.argv[2]) if len(sys.argv) > 2 else 16
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3


def setup(app) -> tuple[str, str, str]:
    from flask_migrate import upgrade

    from portal.accounts.services import create_user
    from portal.accounts import apiclients
    from portal.presales.demo import ensure_defaults
    from portal.presales.models import Queue, QueueMember
    from portal.realestate.models import Development

    with app.app_context():
        upgrade()
        ensure_defaults()
        run = uuid.uuid4().hex[:8]
        dev = Development(name=f"Residencial Bench {run}", slug=f"bench-{run}", city="São Paulo", state="SP")
        db.session.add(dev)
        brokers = [create_user({"name": f"Corretor {i} {run}", "email": f"corretor{i}.{run}@bench.exemplo.com.br",
                                "role": "broker", "phone": ""}) for i in range(4)]
        queue = Queue(name=f"Roleta bench {run}", kind="broker", mode="offline", position=-1)
        queue.members = [QueueMember(user_id=u.id, position=i) for i, u in enumerate(brokers)]
        db.session.add(queue)
        db.session.flush()
        queue.development_ids = [dev.id]
        _, token, _ = apiclients.create_client(f"Bench {run}", scopes=["leads:write"])
        db.session.commit()
        return token, dev.slug, run


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def leads(slug: str, run: str, rnd: int) -> list[tuple[str, str, bytes]]:
    base = random.randrange(10**7 - N)  # fresh phones each round: a reused scratch database has older ones
    return [("POST", "/api/v1/leads", json.dumps({
        "name": f"Pessoa {rnd}-{i}", "email": f"pessoa{rnd}x{i}.{run}@bench.exemplo.com.br",
        "phone": f"+55 11 98{base + i:07d}", "development": slug, "media": "google",
        "message": "Quero saber mais."}).encode()) for i in range(N)]


def one_round(port: int, headers: dict, slug: str, run: str, rnd: int) -> dict:
    lead_lat, lead_codes, lead_secs = load.drive(port, leads(slug, run, rnd), K, headers)
    health_lat, health_codes, health_secs = load.drive(port, [("GET", "/healthz", None)] * N, K)
    ok = sum(n for code, n in lead_codes.items() if code in (200, 201))
    return {"leads/s": ok / lead_secs, "p50": pct(lead_lat, 50), "p95": pct(lead_lat, 95), "max": max(lead_lat),
            "failed": N - ok, "codes": lead_codes, "healthz/s": N / health_secs,
            "healthz p50": pct(health_lat, 50), "healthz failed": N - health_codes.get(200, 0)}


def main():
    logging.disable(logging.INFO)  # no migration chatter; errors still show
    app = create_app()
    token, slug, run = setup(app)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    logs = os.path.join(app.config["INSTANCE_DIR"], "bench-")
    with app.app_context():
        redis = jobs.get_redis()  # with the embedded default this process owns the Redis the children attach to
        backend = db.engine.dialect.name
    rounds = []
    try:
        with load.workers(app, redis, logs + "worker"), load.web(app, logs + "web.log") as port:
            load.drive(port, [("GET", "/healthz", None)] * (K * 5), K)  # warm up connections, pools and imports
            for rnd in range(ROUNDS):
                rounds.append(one_round(port, headers, slug, run, rnd))
                r = rounds[-1]
                print(f"round {rnd + 1}: {r['leads/s']:7.1f} leads/s (non-2xx {r['failed']}: {r['codes']})   "
                      f"/healthz {r['healthz/s']:7.1f} req/s", flush=True)
    finally:
        with app.app_context():
            jobs.stop_embedded()
    with app.app_context():
        from portal.presales.models import Lead
        mine = Lead.email.like(f"%.{run}@bench.exemplo.com.br")
        created = db.session.scalar(select(func.count(Lead.id)).where(mine))
        owners = db.session.scalar(select(func.count(Lead.id)).where(mine, Lead.owner_id.is_not(None)))

    def median(key):
        return statistics.median(r[key] for r in rounds)
    print(f"\ndatabase: {backend}; N={N} leads × {ROUNDS} rounds, K={K} keep-alive clients; `portal run "
          f"--no-worker` (threaded Werkzeug) + 1 `portal worker`, as processes; medians of the rounds")
    print(f"POST /api/v1/leads : {median('leads/s'):8.1f} leads/s   p50 {median('p50'):6.1f} ms   "
          f"p95 {median('p95'):6.1f} ms   max {max(r['max'] for r in rounds):6.0f} ms   non-2xx answers: {sum(r['failed'] for r in rounds)} of {N * ROUNDS}")
    print(f"GET  /healthz      : {median('healthz/s'):8.1f} req/s     p50 {median('healthz p50'):6.1f} ms   "
          f"non-200 answers: {sum(r['healthz failed'] for r in rounds)}   (the ceiling)")
    print(f"intake runs at {100 * median('leads/s') / median('healthz/s'):.0f}% of the ceiling; "
          f"leads in the database: {created} of {N * ROUNDS} (with owner: {owners})")


if __name__ == "__main__":
    main()
