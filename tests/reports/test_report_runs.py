"""Reports through the web: ask, the worker renders, the page polls, the owner downloads."""
import io
import os
from datetime import datetime, timezone

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import insert, select

from portal.accounts.models import Team, User
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.reports import services
from portal.reports.models import ReportRun
from portal.reports.registry import REPORTS, Report
from tests.factories import make_development, make_team, make_user, sales_tree


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def ask(client, key, fmt="pdf", **params):
    r = client.post(f"/relatorios/{key}", data={"format": fmt, **params})
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    run_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return run_id


def test_pdf_report_through_the_web_flow_polls_then_downloads(client, login_as, run_jobs):
    sales_tree()
    admin = make_user("admin", name="Íris Administradora")
    login_as(admin)
    index = client.get("/relatorios/").get_data(as_text=True)
    assert "Usuários por perfil e equipe" in index and "Unidades por empreendimento" in index

    with time_machine.travel(datetime(2025, 3, 10, 15, 30, tzinfo=timezone.utc), tick=True):
        run_id = ask(client, "accounts.users")
        queued = client.get(f"/relatorios/execucoes/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'hx-trigger="every 1s"' in queued and "Na fila" in queued and "<html" not in queued
        run_jobs()

    done = client.get(f"/relatorios/execucoes/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in done  # polling stops
    assert f'href="/relatorios/execucoes/{run_id}/arquivo"' in done and "6 linhas" in done
    assert "<svg" in done and "Usuários por perfil" in done  # the same chart as in the PDF

    r = client.get(f"/relatorios/execucoes/{run_id}/arquivo")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "usuarios-por-perfil-e-equipe-2025-03-10.pdf" in r.headers["Content-Disposition"]
    text = pdf_text(r.data)
    for name in ("Marcos Diretor", "Paula Gestora", "Bruna Corretora", "Carlos Corretor", "Sérgio SDR",
                 "Íris Administradora"):
        assert name in text
    assert "Zona Sul" in text and "Sem equipe" in text and "Corretor" in text
    assert "Gerado em 10/03/2025 12:30 por Íris Administradora" in text  # America/Sao_Paulo (UTC-3)
    assert "Página 1 de 1" in text
    assert "Usuários\n6" in text or "Usuários 6" in text  # the summary figure
    run = db.session.get(ReportRun, run_id)
    assert run.status == "done" and run.rows == 6 and run.progress == 100 and len(run.sha256) == 64
    import hashlib
    assert hashlib.sha256(r.data).hexdigest() == run.sha256


def test_long_pdf_repeats_header_and_numbers_pages(client, login_as, run_jobs):
    admin = make_user("admin")
    now = utcnow()
    db.session.execute(insert(User), [{"name": f"Conceição Gonçalves {i:03d}", "email": f"c{i}@exemplo.com.br",
                                       "role": "broker", "active": True, "password_hash": "", "created_at": now,
                                       "updated_at": now} for i in range(120)])
    db.session.commit()
    login_as(admin)
    run_id = ask(client, "accounts.users")
    run_jobs()
    reader = PdfReader(io.BytesIO(client.get(f"/relatorios/execucoes/{run_id}/arquivo").data))
    pages = len(reader.pages)
    assert pages >= 3
    last = reader.pages[-1].extract_text()
    assert f"Página {pages} de {pages}" in last
    assert "Usuários por perfil e equipe" in last and "E-mail" in last  # running title and repeated header
    assert "Conceição Gonçalves\n119\nc119@exemplo.com.br" in pdf_text(
        client.get(f"/relatorios/execucoes/{run_id}/arquivo").data)


def test_csv_is_excel_friendly_and_scoped_to_the_managers_team(client, login_as, run_jobs):
    t = sales_tree()
    login_as(t["south_mgr"])
    run_id = ask(client, "accounts.users", fmt="csv")
    run_jobs()
    r = client.get(f"/relatorios/execucoes/{run_id}/arquivo")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 accents
    lines = r.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Nome;E-mail;Perfil;Equipe;Ativo;Último acesso"
    names = sorted(line.split(";")[0] for line in lines[1:])
    assert names == ["Bruna Corretora", "Paula Gestora"]  # not Zona Norte, not the head of sales
    assert f"Bruna Corretora;{t['south_broker'].email};Corretor;Zona Sul;Sim;" in lines


def test_csv_cells_that_look_like_formulas_are_neutralised(app):
    admin = make_user("admin")
    make_user("broker", name="=HYPERLINK(\"http://x\") Silva", email="formula@exemplo.com.br")
    path, _ = services.render_to_file(admin, "accounts.users", {}, "csv")
    with open(path, encoding="utf-8-sig") as fh:
        content = fh.read()
    assert "'=HYPERLINK" in content and "\n=HYPERLINK" not in content


def test_filters_apply_and_units_report_counts_by_status(client, login_as, run_jobs):
    admin = make_user("admin")
    bosque = make_development("Residencial Bosque Verde", towers=("Torre A", "Torre B"), units_per_tower=5)
    make_development("Edifício Ária", units_per_tower=3)
    from portal.realestate.models import Unit
    units = db.session.execute(select(Unit).where(Unit.development_id == bosque.id).order_by(Unit.id)).scalars().all()
    for unit, status in zip(units, ["sold"] * 4 + ["reserved"] * 2):
        unit.status = status
    db.session.commit()
    login_as(admin)
    run_id = ask(client, "realestate.units", fmt="csv")
    run_jobs()
    lines = client.get(f"/relatorios/execucoes/{run_id}/arquivo").data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Empreendimento;Cidade;Unidades;Disponíveis;Reservadas;Vendidas;Vendido"
    assert lines[1:] == ["Edifício Ária;São Paulo/SP;3;3;0;0;0,0",
                         "Residencial Bosque Verde;São Paulo/SP;10;4;2;4;40,0"]

    run_id = ask(client, "realestate.units", development=str(bosque.id))
    run_jobs()
    text = pdf_text(client.get(f"/relatorios/execucoes/{run_id}/arquivo").data)
    assert "Residencial Bosque Verde" in text and "Edifício Ária" not in text.split("Empreendimento:")[1]
    assert "40,0 %" in text and "Empreendimento: Residencial Bosque Verde" in text


def test_personalization_sees_only_their_developments_and_not_the_users_report(client, login_as, run_jobs):
    staff = make_user("personalization", name="Priscila Personalização")
    make_development("Residencial Bosque Verde", units_per_tower=2, staff=[staff])
    make_development("Torres do Mirante", units_per_tower=2)
    login_as(staff)
    index = client.get("/relatorios/").get_data(as_text=True)
    assert "Unidades por empreendimento" in index and "Usuários por perfil e equipe" not in index
    assert client.get("/relatorios/accounts.users").status_code == 403
    run_id = ask(client, "realestate.units", fmt="csv")
    run_jobs()
    body = client.get(f"/relatorios/execucoes/{run_id}/arquivo").data.decode("utf-8-sig")
    assert "Bosque Verde" in body and "Mirante" not in body


def test_run_of_someone_else_is_404_for_an_unrelated_broker_but_visible_to_their_manager(client, login_as, run_jobs):
    t = sales_tree()
    login_as(t["south_mgr"])
    run_id = ask(client, "accounts.users", fmt="csv")
    run_jobs()
    client.post("/logout")
    login_as(t["north_broker"])
    assert client.get(f"/relatorios/execucoes/{run_id}/arquivo").status_code == 404
    assert client.get(f"/relatorios/execucoes/{run_id}").status_code == 404
    client.post("/logout")
    login_as(t["head"])  # manages the tree above Zona Sul: the scope lets them see the team's runs
    assert client.get(f"/relatorios/execucoes/{run_id}/arquivo").status_code == 200


def test_bad_params_answer_422_with_field_errors_and_create_nothing(client, login_as):
    admin = make_user("admin")
    login_as(admin)
    r = client.post("/relatorios/accounts.users", data={"format": "pdf", "role": "hacker", "start": "2025-05-10",
                                                        "end": "2025-05-01"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Escolha inválida." in html
    r = client.post("/relatorios/accounts.users", data={"format": "pdf", "start": "2025-05-10", "end": "2025-05-01"})
    assert r.status_code == 422 and "A data final deve ser igual ou posterior à inicial." in r.get_data(as_text=True)
    r = client.post("/relatorios/accounts.users", data={"format": "docx"})
    assert r.status_code == 422 and "Escolha um formato válido." in r.get_data(as_text=True)
    assert db.session.execute(select(ReportRun)).first() is None
    assert client.post("/relatorios/nao-existe", data={"format": "pdf"}).status_code == 404


def test_service_rejects_unknown_report_and_format():
    from portal.errors import ServiceError
    admin = make_user("admin")
    with pytest.raises(ServiceError) as exc:
        services.request_report(admin, "nao.existe", {}, "pdf")
    assert exc.value.errors == {"report": "Relatório desconhecido."}
    with pytest.raises(ServiceError) as exc:
        services.request_report(admin, "accounts.users", {}, "xlsx")
    assert "format" in exc.value.errors
    broker = make_user("broker")
    with pytest.raises(ServiceError):
        services.request_report(broker, "accounts.users", {}, "pdf")


class Exploding(Report):
    key = "test.exploding"
    title = "Relatório que falha"
    roles = ("manager",)
    columns = [("name", "Nome", "text")]

    def rows(self, user, params):
        yield {"name": "primeira linha"}
        raise RuntimeError("conexão perdida com o ERP")


def test_a_failing_render_ends_failed_with_the_error_in_the_page(client, login_as, run_jobs, monkeypatch):
    monkeypatch.setitem(REPORTS, Exploding.key, Exploding())
    admin = make_user("admin")
    login_as(admin)
    run_id = ask(client, Exploding.key)
    run_jobs()
    run = db.session.get(ReportRun, run_id)
    assert run.status == "failed" and run.finished_at is not None and run.file_path is None
    assert run.error == "RuntimeError: conexão perdida com o ERP"
    page = client.get(f"/relatorios/execucoes/{run_id}").get_data(as_text=True)
    assert "Falhou" in page and "conexão perdida com o ERP" in page and "every 1s" not in page
    assert client.get(f"/relatorios/execucoes/{run_id}/arquivo").status_code == 404
    assert not [f for _, _, files in os.walk(client.application.config["REPORTS_DIR"]) for f in files
                if f.endswith(".part")]  # no half-written file left behind


class Counting(Report):
    """1,200 rows; at row 1,001 it looks at the run from another connection."""
    key = "test.counting"
    title = "Contagem"
    roles = ("manager",)
    columns = [("n", "Número", "number")]
    seen = []

    def count(self, user, params):
        return 1200

    def rows(self, user, params):
        for n in range(1, 1201):
            if n == 1001:
                with db.engine.connect() as conn:
                    Counting.seen.append(tuple(conn.execute(select(ReportRun.status, ReportRun.progress,
                                                                   ReportRun.rows)).one()))
            yield {"n": n}


def test_progress_is_committed_while_rows_are_read(client, login_as, run_jobs, monkeypatch):
    monkeypatch.setitem(REPORTS, Counting.key, Counting())
    Counting.seen.clear()
    admin = make_user("admin")
    login_as(admin)
    run_id = ask(client, Counting.key, fmt="csv")
    run_jobs()
    assert Counting.seen == [("running", 95 * 1000 // 1200, 1000)]
    run = db.session.get(ReportRun, run_id)
    assert (run.status, run.progress, run.rows) == ("done", 100, 1200)
    lines = client.get(f"/relatorios/execucoes/{run_id}/arquivo").data.decode("utf-8-sig").splitlines()
    assert lines[1] == "1" and lines[-1] == "1.200"


def test_pdf_layout_reports_page_progress(app):
    admin = make_user("admin")
    now = utcnow()
    db.session.execute(insert(User), [{"name": f"Pessoa {i}", "email": f"p{i}@exemplo.com.br", "role": "sdr",
                                       "active": True, "password_hash": "", "created_at": now, "updated_at": now}
                                      for i in range(90)])
    db.session.commit()
    calls = []
    out = services.render_to_file(admin, "accounts.users", {}, "pdf", progress=lambda pct, rows: calls.append(pct))
    assert out.rows == 91
    assert calls == sorted(calls) and calls[0] == services.READ_END
    assert len([c for c in calls if services.READ_END < c <= services.LAYOUT_END]) >= 2  # pages as they are laid out


def test_request_is_only_enqueued_after_commit_and_web_never_renders(app):
    from portal import jobs
    admin = make_user("admin")
    run = services.request_report(admin, "accounts.users", {"inactive": "y"}, "pdf")
    assert jobs.queue("low").count == 0
    db.session.commit()
    assert jobs.queue("low").job_ids == [f"report-run-{run.id}"]
    assert run.status == "queued" and run.params == {"inactive": "y"}
    assert run.file_path is None


def test_runs_of_a_deactivated_user_or_with_stale_params_fail_with_a_reason(client, login_as, run_jobs):
    t = sales_tree()
    login_as(t["head"])
    east = make_team("Zona Leste", parent=t["root"])
    stale = ask(client, "accounts.users", team=str(east.id))
    db.session.delete(db.session.get(Team, east.id))  # the team is gone before the worker runs
    db.session.commit()
    run_jobs()
    assert db.session.get(ReportRun, stale).error == "Parâmetros inválidos: Escolha inválida."

    run_id = ask(client, "accounts.users")
    t["head"].active = False
    db.session.commit()
    run_jobs()
    run = db.session.get(ReportRun, run_id)
    assert run.status == "failed" and "acesso desativado" in run.error


def test_old_report_files_are_deleted_after_the_retention_and_the_run_says_so(app, client, login_as, run_jobs):
    sales_tree()
    admin = make_user("admin", name="Íris Administradora")
    login_as(admin)
    with time_machine.travel(datetime(2025, 3, 10, 15, 30, tzinfo=timezone.utc), tick=False):
        run_id = ask(client, "accounts.users", fmt="csv")
        run_jobs()
    path = services.run_file(db.session.get(ReportRun, run_id))
    old_mail = os.path.join(app.config["REPORTS_DIR"], "email", "2025", "03", "old.pdf")
    os.makedirs(os.path.dirname(old_mail), exist_ok=True)
    with open(old_mail, "wb") as fh:
        fh.write(b"%PDF")
    os.utime(old_mail, (datetime(2025, 3, 10, tzinfo=timezone.utc).timestamp(),) * 2)

    assert services.purge_expired_files(datetime(2025, 4, 8, tzinfo=timezone.utc)) == 0  # 29 days: kept
    assert os.path.isfile(path) and os.path.isfile(old_mail)
    assert services.purge_expired_files(datetime(2025, 4, 10, 16, tzinfo=timezone.utc)) == 2
    assert not os.path.exists(path) and not os.path.exists(old_mail)
    db.session.expire_all()
    assert db.session.get(ReportRun, run_id).status == "expired"
    assert client.get(f"/relatorios/execucoes/{run_id}/arquivo").status_code == 404
    page = client.get(f"/relatorios/execucoes/{run_id}").get_data(as_text=True)
    assert "Arquivo expirado" in page and "Gerar de novo" in page
