"""Benchmark: contract PDFs through the worker, next to WeasyPrint alone, then the signature step.

    .venv/bin/python bench/contracts.py [contracts]          # default 200, SQLite + embedded Redis in a temp dir

Builds a throwaway app (migrations), the test development (catalog, two buyers, a submitted selection with
its payment choice and the default contract template), then times
  1. the worker path — N queued contracts enqueued as `render_contract` jobs and run by a burst RQ worker
     (the job's own time from RQ's started/ended stamps: load, template, WeasyPrint, file, SHA-256, UPDATE);
  2. WeasyPrint alone on the same HTML, N times in the same run (the baseline);
  3. signing — what the built-in provider's final job does per contract: the evidence page (WeasyPrint),
     the merge (pypdf) and the PAdES seal (pyHanko), and the PAdES seal alone;
and prints p50/p95 per contract and contracts per minute (render + sign, one worker).
"""
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = tempfile.mkdtemp(prefix="bench-contracts-")
os.environ["PORTAL_INSTANCE_DIR"] = os.path.join(TMP, "instance")  # before portal.config is imported
os.environ.setdefault("SECRET_KEY", "bench")
sys.path.insert(0, ROOT)

from portal import create_app  # noqa: E402
from portal.dbtypes import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(label, values, unit="ms"):
    scale = 1000 if unit == "ms" else 1
    print(f"{label:<44} p50 {pct(values, 50) * scale:8.1f} {unit}   p95 {pct(values, 95) * scale:8.1f} {unit}"
          f"   total {sum(values):7.1f} s")


def main(n: int = 200) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{TMP}/bench.db",
                      "RATELIMIT_ENABLED": False, "JOB_RETRY_INTERVALS": []})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        from rq.job import Job
        from weasyprint import HTML

        from portal import jobs
        from portal.personalize import signing
        from portal.personalize.contracts import Contract
        from portal.personalize.esign import builtin
        from portal.personalize.esign.models import Envelope, Signer
        from portal.personalize.services import contracts, selections
        from tests.personalize.world import build_world
        from worker import make_worker

        w = build_world(utcnow())
        contracts.save_template(w["dev"], contracts.DEFAULT_TEMPLATE, w["staff"])
        unit, o, items = w["units"][0], w["options"], w["items"]
        sel = selections.ensure_selection(unit)
        for item, option in (("sala", "vinilico"), ("torneira", "gourmet"), ("bancada", "quartzo")):
            selections.choose(sel, items[item].id, o[option].id, w["a"])
        db.session.commit()
        db.session.refresh(sel)
        selections.submit(sel, sel.revision, w["a"])
        contracts.choose_payment(sel, "cartao", 10, w["a"])
        db.session.commit()
        template = contracts.current_template(w["dev"].id)
        signing.ensure_certificate()  # the one-time key generation stays outside the timing
        jobs.get_redis().flushdb()

        # 1. the worker path
        rows = [Contract(selection_id=sel.id, development_id=sel.development_id, status="queued",
                         selection_revision=sel.revision, total_cents=sel.total_cents) for _ in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        ids = [c.id for c in rows]
        for cid in ids:
            jobs.enqueue(contracts.render_contract, cid, job_id=f"bench-contract-{cid}", retry=False)
        t = time.perf_counter()
        make_worker(app, queues=("default",)).work(burst=True, logging_level="WARNING")
        render_wall = time.perf_counter() - t
        conn = jobs.get_redis()
        job_times = []
        for cid in ids:
            job = Job.fetch(f"bench-contract-{cid}", connection=conn)
            assert job.return_value() == "rendered", (cid, job.get_status())
            job_times.append((job.ended_at - job.started_at).total_seconds())
        db.session.expire_all()
        rendered = [db.session.get(Contract, cid) for cid in ids]

        # 2. WeasyPrint alone, the same HTML
        html = contracts.contract_html(sel, template)
        direct = []
        for _ in range(n):
            t = time.perf_counter()
            HTML(string=html, base_url=app.static_folder).write_pdf()
            direct.append(time.perf_counter() - t)

        # 3. signing: evidence page + merge + PAdES (the final job's work), and PAdES alone
        now = utcnow()
        envelope = Envelope(id=1, contract_id=ids[0], selection=sel, development_id=sel.development_id,
                            status="partial")
        envelope.signers = [Signer(position=i, role=role, name=u.name, cpf=u.cpf, email=u.email, status="signed",
                                   signed_at=now - timedelta(minutes=5 - i), ip="203.0.113.7", otp_channel="email",
                                   user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile")
                            for i, (role, u) in enumerate((("buyer", w["a"]), ("staff", w["staff"])))]
        final, seal = [], []
        for contract in rendered:
            with open(contracts.contract_file(contract), "rb") as fh:
                original = fh.read()
            t = time.perf_counter()
            signed = builtin.final_pdf(envelope, original)
            final.append(time.perf_counter() - t)
            t = time.perf_counter()
            signing.sign_pdf(original)
            seal.append(time.perf_counter() - t)
        db.session.rollback()
        assert signing.verify_pdf(signed)["valid"]

        print(f"contracts: {n}  lines per contract: {len(sel.lines)}  "
              f"pdf: {os.path.getsize(contracts.contract_file(rendered[0])) / 1024:.0f} KiB  "
              f"sealed: {len(signed) / 1024:.0f} KiB  db: {db.engine.url.get_backend_name()}")
        line("render_contract job (worker, RQ stamps)", job_times)
        line("WeasyPrint alone, same HTML (baseline)", direct)
        print(f"{'ratio job / WeasyPrint (p50)':<44} {pct(job_times, 50) / pct(direct, 50):8.2f}")
        line("final PDF: evidence + merge + PAdES", final)
        line("PAdES seal alone (pyHanko)", seal)
        print(f"{'worker wall time for the renders':<44} {render_wall:8.1f} s")
        per_contract = render_wall / n + statistics.mean(final)
        print(f"{'contracts per minute (render + sign, 1 worker)':<44} {60 / per_contract:8.1f}")
    from portal import jobs
    jobs.stop_embedded()
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
