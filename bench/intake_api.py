"""Benchmark: leads per second through POST /api/v1/leads, with K concurrent keep-alive clients.

Starts the app in this process on a threaded WSGI server (Werkzeug's; gunicorn is not a dependency),
creates the pre-sales defaults, a development, an offline broker queue with 4 brokers and an API client,
then posts N distinct leads (each one a real intake: validation, dedup keys, sequence number, queue
lock, assignment, narratives, outbox events) from K threads. Baseline, same run, same clients: N GETs of
/healthz (one SELECT 1 and a Redis PING) — the ceiling this server gives any endpoint.

    .venv/bin/python bench/intake_api.py                 # SQLite in a temp dir, embedded Redis
    .venv/bin/python bench/intake_api.py 2000 16         # N leads, K clients
    DATABASE_URL=postgresql+psycopg://... REDIS_URL=redis://... .venv/bin/python bench/intake_api.py

With DATABASE_URL the schema is migrated in place and the bench's rows are left there (each run uses
fresh contacts): point it at a scratch database. The rate limit is raised so it is paid, not hit.
"""
import http.client
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
K = int(sys.argv[2]) if len(sys.argv) > 2 else 8


def setup(app) -> str:
    from flask_migrate import upgrade

    from portal.accounts.services import create_user
    from portal.presales import apiclients
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
        _, token = apiclients.create_client(f"Bench {run}")
        db.session.commit()
        return token, dev.slug, run


def drive(port: int, requests: list[tuple[str, str, bytes | None]], headers: dict) -> tuple[list[float], dict, float]:
    """Send the requests from K threads, each with one keep-alive connection; latencies in ms."""
    latencies, statuses, lock = [], {}, threading.Lock()
    chunks = [requests[i::K] for i in range(K)]
    barrier = threading.Barrier(K + 1)

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        barrier.wait()
        for method, path, payload in chunk:
            start = time.perf_counter()
            conn.request(method, path, body=payload, headers=headers if payload else {})
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, statuses, time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def main():
    logging.disable(logging.INFO)  # no per-request access log, no migration chatter; errors still show
    app = create_app({"PUBLIC_RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
    token, slug, run = setup(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = random.randrange(10**7 - N)  # fresh phones each run: a reused scratch database has older ones
    leads = [("POST", "/api/v1/leads", json.dumps({
        "name": f"Pessoa {i}", "email": f"pessoa{i}.{run}@bench.exemplo.com.br", "phone": f"+55 11 98{base + i:07d}",
        "development": slug, "media": "google", "message": "Quero saber mais."}).encode()) for i in range(N)]
    drive(port, [("GET", "/healthz", None)] * (K * 5), {})  # warm up connections, pools and imports
    lead_lat, lead_codes, lead_secs = drive(port, leads, headers)
    health_lat, health_codes, health_secs = drive(port, [("GET", "/healthz", None)] * N, {})
    server.shutdown()
    with app.app_context():
        from portal.presales.models import Lead
        created = db.session.scalar(select(func.count(Lead.id)).where(Lead.email.like(f"%.{run}@bench.exemplo.com.br")))
        owners = db.session.scalar(select(func.count(Lead.id)).where(Lead.email.like(f"%.{run}@bench.exemplo.com.br"),
                                                                     Lead.owner_id.is_not(None)))
        backend = db.engine.dialect.name
    ok = lead_codes.get(201, 0) + lead_codes.get(200, 0)
    print(f"database: {backend}; N={N} leads, K={K} concurrent keep-alive clients, threaded Werkzeug server")
    print(f"POST /api/v1/leads : {ok / lead_secs:8.1f} leads/s   p50 {pct(lead_lat, 50):6.1f} ms   "
          f"p95 {pct(lead_lat, 95):6.1f} ms   statuses {dict(sorted(lead_codes.items()))}")
    print(f"GET  /healthz      : {N / health_secs:8.1f} req/s     p50 {pct(health_lat, 50):6.1f} ms   "
          f"p95 {pct(health_lat, 95):6.1f} ms   statuses {dict(sorted(health_codes.items()))}   (ceiling)")
    print(f"intake runs at {100 * (ok / lead_secs) / (N / health_secs):.0f}% of the ceiling; "
          f"leads in the database: {created} (with owner: {owners})")
    if ok < N:
        print(f"WARNING: {N - ok} of {N} posts failed (see the errors above); leads/s counts successes only")


if __name__ == "__main__":
    main()
