"""Benchmark: a 5,000-row report PDF through the report engine vs WeasyPrint on the same HTML.

    .venv/bin/python bench/report_pdf.py [rows] [repeat]

Builds a throwaway app (temp SQLite, migrations), inserts the users, then times
  1. request_report()      — what the web process does (validate, insert the run, enqueue),
  2. render_to_file()      — the job's work: query, format, template, WeasyPrint, file, sha256,
  3. WeasyPrint alone      — HTML(string=<the same HTML>).write_pdf(), the baseline.
The ratio 2/3 shows the engine's own overhead (should stay near 1).
"""
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = tempfile.mkdtemp(prefix="bench-report-")
os.environ["PORTAL_INSTANCE_DIR"] = os.path.join(TMP, "instance")  # before portal.config is imported
os.environ.setdefault("SECRET_KEY", "bench")
sys.path.insert(0, ROOT)

from sqlalchemy import insert  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import ROLES, Team, User  # noqa: E402
from portal.dbtypes import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elaine", "Fábio", "Gisele", "Heitor", "Íris", "João"]
LAST = ["Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Carvalho", "Ribeiro", "Conceição", "Gonçalves"]


def seed(n: int) -> User:
    admin = User(name="Ana Administradora", email="admin@exemplo.com.br", role="admin", active=True)
    db.session.add(admin)
    teams = [Team(name=f"Equipe {i + 1}") for i in range(12)]
    db.session.add_all(teams)
    db.session.flush()
    roles = [r for r in ROLES if r not in ("admin", "customer")]
    now = utcnow()
    db.session.execute(insert(User), [
        {"name": f"{FIRST[i % 10]} {LAST[(i // 10) % 10]} {i}", "email": f"pessoa{i}@exemplo.com.br",
         "role": roles[i % len(roles)], "active": True, "team_id": teams[i % len(teams)].id,
         "last_login_at": now if i % 3 else None, "password_hash": "", "created_at": now, "updated_at": now}
        for i in range(n - 1)])
    db.session.commit()
    return admin


def main(n: int = 5000, repeat: int = 2) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{TMP}/bench.db", "RATELIMIT_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        from weasyprint import HTML

        from portal.reports import services
        from portal.reports.registry import REPORTS
        admin = seed(n)
        report = REPORTS["accounts.users"]
        params = {"inactive": "y"}

        from portal import jobs
        jobs.get_redis().ping()  # start the embedded Redis outside the timing
        t = time.perf_counter()
        run = services.request_report(admin, "accounts.users", params, "pdf")
        db.session.commit()
        t_request = time.perf_counter() - t

        stored, typed = report.clean_params(admin, params)
        rows = list(report.rows(admin, typed))
        html = services.render_html(admin, report, stored, typed, rows, report.chart(rows, typed))
        engine_times, direct_times = [], []
        def engine():
            t = time.perf_counter()
            result = services.render_to_file(admin, "accounts.users", params, "pdf")
            engine_times.append(time.perf_counter() - t)
            return result

        def weasyprint_alone():
            t = time.perf_counter()
            result = HTML(string=html, base_url=app.static_folder).write_pdf()
            direct_times.append(time.perf_counter() - t)
            return result

        for i in range(repeat):  # alternating order, best of each: a busy machine slows both alike
            if i % 2:
                direct, out = weasyprint_alone(), engine()
            else:
                out, direct = engine(), weasyprint_alone()
        t_engine, t_direct = min(engine_times), min(direct_times)

        from pypdf import PdfReader
        pages = len(PdfReader(out.path).pages)
        print(f"rows: {out.rows}  pages: {pages}  pdf: {os.path.getsize(out.path) / 1024:.0f} KiB "
              f"(direct {len(direct) / 1024:.0f} KiB)  run #{run.id} status: {run.status}")
        print(f"request_report (web process):   {t_request * 1000:8.1f} ms")
        print(f"render_to_file (report engine): {t_engine:8.2f} s  (best of {repeat})")
        print(f"WeasyPrint alone, same HTML:    {t_direct:8.2f} s  (best of {repeat})")
        print(f"ratio engine / WeasyPrint:      {t_engine / t_direct:8.2f}")
    from portal import jobs
    jobs.stop_embedded()
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
