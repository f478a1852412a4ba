from rq.registry import FailedJobRegistry

from portal import jobs
from portal.accounts import services
from portal.extensions import db
from tests.factories import make_user

CALLS = []


def always_fails(label):
    CALLS.append(label)
    raise RuntimeError(f"falhou de propósito: {label}")


def test_failing_job_is_retried_then_listed_and_can_be_retried_by_admin(app, client, login_as, run_jobs):
    admin = make_user("admin")
    CALLS.clear()
    jobs.enqueue(always_fails, "relatório")
    run_jobs()
    assert CALLS == ["relatório"] * 4  # first try + the 3 configured retries
    failed = FailedJobRegistry(queue=jobs.queue("default"))
    (job_id,) = failed.get_job_ids()
    login_as(admin)
    page = client.get("/admin/tarefas").get_data(as_text=True)
    assert "always_fails" in page and "falhou de propósito" in page
    assert client.post(f"/admin/tarefas/{job_id}/repetir").status_code == 302
    assert failed.count == 0 and len(jobs.queue("default")) == 1
    r = client.post("/admin/tarefas/nao-existe/repetir", follow_redirects=True)
    assert "não encontrada" in r.get_data(as_text=True)


def test_cli_users_create_and_bad_input(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["users", "create", "--name", "Ana Admin", "--email", "Ana@Exemplo.com.br",
                             "--role", "admin", "--password", "segredo123"])
    assert ok.exit_code == 0, ok.output
    assert services.find_user_by_email("ana@exemplo.com.br").role == "admin"
    bad = runner.invoke(args=["users", "create", "--name", "Ana 2", "--email", "ana@exemplo.com.br",
                              "--password", "segredo123"])
    assert bad.exit_code == 2 and "Já existe um usuário com este e-mail." in bad.output
    db.session.expire_all()


def test_cli_demo_prints_logins(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.portal" in result.output and "portal123" in result.output
