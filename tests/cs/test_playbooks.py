"""Product-migration playbooks (legacy-migration seed): the plan groups a legacy product's accounts by touch
model with counts and MRR; a migration walks the seven steps in order with owner, date and notes (events on
the account's timeline); price maintenance; the parallel period's reminder fires once on the agreed end date
(real SMTP); scope is the account's; bad input answers next to the fields and writes nothing."""
from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.automation import engine
from portal.automation.models import Event, Task
from portal.cs.models import Account, Product
from portal.cs.playbook_models import STEPS, Migration, MigrationComponent, MigrationStep
from portal.cs.services import accounts as account_services
from portal.cs.services import playbooks, product_lifecycle
from portal.extensions import db
from tests.cs.conftest import at, make_account


@pytest.fixture
def legacy(app):
    """Data Trust (legacy) → Plataforma Data Trust, whose current table prices Score and Biometria."""
    new = account_services.save_product({"name": "Plataforma Data Trust"})
    old = account_services.save_product({"name": "Data Trust"})
    db.session.flush()
    product_lifecycle.save_lifecycle(old, {"legacy": "1", "successor_id": str(new.id)})
    product_lifecycle.save_component(new, {"name": "Score de Fraude", "price": "1,20"})
    product_lifecycle.save_component(new, {"name": "Biometria", "price": "2,50"})
    db.session.commit()
    return {"old": old, "new": new}


@pytest.fixture
def book(cs_team, legacy):
    """Caio's three accounts and Bia's one on the legacy product, one per touch model (plus one elsewhere)."""
    caio, bia, outsider = cs_team["caio"], cs_team["bia"], cs_team["outsider"]
    pid = [legacy["old"].id]
    return {
        "abc": make_account(caio, name="Banco ABC", mrr="5.000,00", product_ids=pid, touch_model="tech"),
        "alfa": make_account(caio, name="Financeira Alfa", mrr="6.000,00", product_ids=pid, touch_model="tech"),
        "pan": make_account(caio, name="Banco Pan", mrr="200.000,00", product_ids=pid, touch_model="mid"),
        "bmg": make_account(bia, name="Banco BMG", mrr="90.000,00", product_ids=pid, touch_model="high"),
        "far": make_account(outsider, name="Banco Longe", mrr="1.000,00", product_ids=pid, touch_model="tech"),
    }


def start(account, legacy, user):
    migration = playbooks.start_migrations(legacy["old"], [db.session.get(Account, account.id)], user)[0]
    db.session.commit()
    return migration


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_plan_groups_accounts_by_touch_model_with_counts_and_mrr(cs_team, legacy, book):
    leader_plan = playbooks.plan(cs_team["leader"], legacy["old"])
    groups = {g.touch: g for g in leader_plan.groups}
    assert [g.touch for g in leader_plan.groups] == ["tech", "mid", "high"]
    assert (groups["tech"].count, groups["tech"].mrr_cents) == (2, 1_100_000)  # Banco Longe is not the team's
    assert (groups["mid"].count, groups["mid"].mrr_cents) == (1, 20_000_000)
    assert (groups["high"].count, groups["high"].mrr_cents) == (1, 9_000_000)
    assert leader_plan.count == 4 and leader_plan.mrr_cents == 30_100_000
    caio_plan = {g.touch: g for g in playbooks.plan(cs_team["caio"], legacy["old"]).groups}
    assert (caio_plan["tech"].count, caio_plan["mid"].count, caio_plan["high"].count) == (2, 1, 0)
    assert "massificada" in groups["tech"].approach and "individual" in groups["high"].approach


def test_full_walk_in_order_with_owner_date_notes_and_timeline(cs_team, legacy, book, client, login_as):
    caio = cs_team["caio"]
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        login_as(caio)
        response = client.post(f"/sucesso/migracoes/produtos/{legacy['old'].id}/iniciar", data={"group": "tech"})
        assert response.status_code == 302
        migrations = db.session.execute(select(Migration).order_by(Migration.id)).scalars().all()
        assert {m.account_id for m in migrations} == {book["abc"].id, book["alfa"].id}
        assert count(AuditLog, AuditLog.action == "migration.bulk_started") == 1
        migration = next(m for m in migrations if m.account_id == book["abc"].id)
        url = f"/sucesso/migracoes/{migration.id}/etapa"

        # skipping ahead is refused: the steps go in order, nothing is written
        response = client.post(url, data={"step": "go_live", "owner_id": caio.id, "done_on": "2026-03-02"})
        assert response.status_code == 422 and "em ordem" in response.get_data(as_text=True)
        response = client.post(url, headers={"HX-Request": "true"},
                               data={"phase": "credentials", "owner_id": caio.id, "done_on": "2026-03-02"})
        assert response.status_code == 409 and "em ordem" in response.get_data(as_text=True)
        assert count(MigrationStep) == 0

        presales = cs_team["leader"]
        for i, key in enumerate(STEPS):
            data = {"step": key, "owner_id": (presales if key == "negotiation" else caio).id,
                    "done_on": "2026-03-02", "notes": f"Nota {i}: {STEPS[key]}"}
            if key == "credentials":
                data["new_entity_id"] = "ENT-2002"
            response = client.post(url, data=data)
            assert response.status_code == 302, response.get_data(as_text=True)[:400]
        db.session.expire_all()
        migration = db.session.get(Migration, migration.id)
        assert migration.step == "done" and migration.status == "done"
        assert [s.step for s in migration.steps] == list(STEPS)
        assert migration.steps[0].owner_id == presales.id and migration.steps[1].owner_id == caio.id
        assert migration.steps[3].notes == "Nota 3: Credenciais (teste e produção)"
        assert all(s.done_on == date(2026, 3, 2) for s in migration.steps)
        assert migration.legacy_shutdown_on == date(2026, 3, 2) and migration.new_entity_id == "ENT-2002"
        account = db.session.get(Account, book["abc"].id)
        assert [p.name for p in account.products] == ["Plataforma Data Trust"]  # swapped, legacy shut down
        assert count(Event, Event.type == "account.migration_step", Event.subject_id == account.id) == 7
        assert count(Event, Event.type == "account.migration_finished", Event.subject_id == account.id) == 1

        page = client.get(f"/sucesso/contas/{account.id}").get_data(as_text=True)
        assert "Migração Data Trust → Plataforma Data Trust: Negociação" in page
        assert "Nota 6: Desligamento do legado" in page and "Migração iniciada" in page
        assert client.post(url, data={"step": "shutdown", "owner_id": caio.id, "done_on": "2026-03-02"}
                           ).status_code == 422  # already finished

        board = client.get("/sucesso/migracoes/quadro").get_data(as_text=True)
        assert "Banco ABC" in board and "Financeira Alfa" in board
        other = next(m.id for m in migrations if m.account_id == book["alfa"].id)
        response = client.post(f"/sucesso/migracoes/{other}/etapa", headers={"HX-Request": "true"},
                               data={"phase": "swap", "owner_id": caio.id, "done_on": "2026-03-02"})
        assert response.status_code == 200 and "“Negociação” concluída" in response.get_data(as_text=True)
        assert db.session.get(Migration, other).step == "swap"


def test_parallel_period_reminder_fires_once_on_the_end_date(cs_team, legacy, book, run_jobs, smtp_server):
    caio = cs_team["caio"]
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        migration = start(book["pan"], legacy, caio)
        playbooks.save_details(migration, {"legacy_entity_id": "ENT-1", "new_entity_id": "ENT-2",
                                           "parallel_until": "2026-04-06"}, caio)
        db.session.commit()
        run_jobs()  # the new rule's backfill and the events
        assert db.session.get(Account, book["pan"].id).parallel_end_at == at("2026-04-06 09:00")
    engine.sweep(at("2026-04-06 08:59"))
    run_jobs()
    assert smtp_server.messages == []
    with time_machine.travel(at("2026-04-06 09:00"), tick=False):
        engine.sweep(at("2026-04-06 09:00"))
        engine.sweep(at("2026-04-06 09:00"))
        run_jobs()
    engine.sweep(at("2026-04-07 09:00"))
    run_jobs()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["to"] == [caio.email] and "Banco Pan" in message["message"]["Subject"]
    assert "06/04/2026" in message["message"].get_body().get_content()
    assert count(Task, Task.subject_id == book["pan"].id, Task.title.contains("desligamento")) == 1

    # the plan flags the account: both products still running after the agreed end
    with time_machine.travel(at("2026-04-08 10:00"), tick=False):
        flagged = playbooks.plan(caio, legacy["old"]).flagged
        assert [r.account.name for r in flagged] == ["Banco Pan"]
    # the seeded rule is created once
    assert playbooks.ensure_parallel_rule().id == playbooks.ensure_parallel_rule().id


def test_price_maintenance_keeps_legacy_price_and_new_components_follow_the_table(cs_team, legacy, book):
    caio = cs_team["caio"]
    migration = start(book["pan"], legacy, caio)
    playbooks.save_price(migration, {"name": "Score de Fraude", "kept": "1", "legacy_price": "1,00"}, caio)
    playbooks.save_price(migration, {"name": "biometria"}, caio)
    db.session.commit()
    rows = {c.name: c for c in migration.components}
    assert (rows["Score de Fraude"].price_cents, rows["Score de Fraude"].table_price_cents) == (100, 120)
    assert (rows["Biometria"].kept, rows["Biometria"].price_cents) == (False, 250)
    with pytest.raises(Exception) as exc:
        playbooks.save_price(migration, {"name": "Device ID"}, caio)  # not in the current table
    assert "tabela vigente" in str(exc.value)


def test_out_of_scope_is_404(cs_team, legacy, book, client, login_as):
    migration = start(book["bmg"], legacy, cs_team["bia"])
    login_as(cs_team["caio"])
    assert client.get(f"/sucesso/migracoes/{migration.id}").status_code == 404
    assert client.post(f"/sucesso/migracoes/{migration.id}/etapa",
                       data={"step": "negotiation", "owner_id": cs_team["caio"].id, "done_on": "2026-03-02"}
                       ).status_code == 404
    assert client.post(f"/sucesso/migracoes/produtos/{legacy['old'].id}/iniciar",
                       data={"account_ids": [book["far"].id]}).status_code == 404
    assert count(Migration) == 1 and count(MigrationStep) == 0
    assert client.get(f"/sucesso/migracoes/produtos/{legacy['new'].id}").status_code == 404  # not legacy
    client.post("/logout")
    login_as(cs_team["leader"])
    assert client.get(f"/sucesso/migracoes/{migration.id}").status_code == 200


def test_bad_input_gives_field_errors_and_writes_nothing(cs_team, legacy, book, client, login_as):
    caio = cs_team["caio"]
    migration = start(book["pan"], legacy, caio)
    login_as(caio)
    audits = count(AuditLog)
    response = client.post(f"/sucesso/migracoes/{migration.id}/etapa",
                           data={"step": "negotiation", "owner_id": "", "done_on": "31/02/2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Escolha o responsável" in page and "Data inválida" in page
    response = client.post(f"/sucesso/migracoes/{migration.id}/etapa",
                           data={"step": "negotiation", "owner_id": caio.id, "done_on": "2999-01-01"})
    assert response.status_code == 422 and "futuro" in response.get_data(as_text=True)
    response = client.post(f"/sucesso/migracoes/{migration.id}/dados",
                           data={"legacy_entity_id": "ENT-1", "new_entity_id": "ENT-1", "parallel_until": "2026-05-01"})
    assert response.status_code == 422 and "mesmo ID de entidade" in response.get_data(as_text=True)
    response = client.post(f"/sucesso/migracoes/{migration.id}/precos", data={"name": "Score de Fraude", "kept": "1"})
    assert response.status_code == 422 and "preço que a conta paga" in response.get_data(as_text=True)
    response = client.post(f"/sucesso/migracoes/produtos/{legacy['old'].id}/iniciar", data={})
    assert response.status_code == 422 and "Selecione ao menos uma conta" in response.get_data(as_text=True)
    db.session.expire_all()
    migration = db.session.get(Migration, migration.id)
    assert migration.step == "negotiation" and migration.parallel_until is None and migration.legacy_entity_id == ""
    assert count(MigrationStep) == 0 and count(MigrationComponent) == 0 and count(Migration) == 1
    assert count(AuditLog) == audits

    client.post("/logout")
    login_as(cs_team["leader"])
    response = client.post(f"/sucesso/configuracoes/produtos/{legacy['new'].id}/ciclo",
                           data={"legacy": "1", "successor_id": str(legacy["new"].id)})
    assert response.status_code == 422 and "suceder a si mesmo" in response.get_data(as_text=True)
    response = client.post(f"/sucesso/configuracoes/produtos/{legacy['new'].id}/componentes",
                           data={"name": "Token", "price": "abc"})
    assert response.status_code == 422 and "Informe um valor" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Product, legacy["new"].id).legacy is False
    assert len(product_lifecycle.components(legacy["new"])) == 2


def test_leader_marks_a_product_legacy_on_the_products_page(cs_team, legacy, client, login_as):
    login_as(cs_team["leader"])
    page = client.get("/sucesso/configuracoes/produtos").get_data(as_text=True)
    assert "Legado</span> → Plataforma Data Trust" in page
    other = account_services.save_product({"name": "Mobile Trust"})
    db.session.commit()
    response = client.post(f"/sucesso/configuracoes/produtos/{other.id}/ciclo",
                           data={"legacy": "1", "successor_id": str(legacy["new"].id)})
    assert response.status_code == 302
    db.session.expire_all()
    other = db.session.get(Product, other.id)
    assert other.legacy and other.successor_id == legacy["new"].id
    assert "Mobile Trust" in client.get("/sucesso/migracoes").get_data(as_text=True)
    client.post("/logout")
    login_as(cs_team["caio"])
    assert client.post(f"/sucesso/configuracoes/produtos/{other.id}/ciclo", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Product, other.id).legacy


class _Queries:
    """Counts the SQL statements run inside the block (a list must not run one per row)."""
    def __enter__(self):
        from sqlalchemy import event
        self.count = 0
        self._event = event
        event.listen(db.engine, "before_cursor_execute", self._hit)
        return self

    def _hit(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        self._event.remove(db.engine, "before_cursor_execute", self._hit)


def test_prices_beyond_any_real_value_are_field_errors_not_crashes(cs_team, legacy, book, client, login_as):
    caio = cs_team["caio"]
    migration = start(book["pan"], legacy, caio)
    login_as(caio)
    priced = (AuditLog.object_type.in_(("Migration", "Product")),)
    audits = count(AuditLog, *priced)
    response = client.post(f"/sucesso/migracoes/{migration.id}/precos",
                           data={"name": "Score de Fraude", "kept": "1", "legacy_price": "1e30"})
    assert response.status_code == 422 and "preço que a conta paga" in response.get_data(as_text=True)
    client.post("/logout")
    login_as(cs_team["leader"])
    response = client.post(f"/sucesso/configuracoes/produtos/{legacy['new'].id}/componentes",
                           data={"name": "Token", "price": "99999999999999999999999"})
    assert response.status_code == 422 and "Informe um valor" in response.get_data(as_text=True)
    db.session.expire_all()
    assert count(MigrationComponent) == 0 and len(product_lifecycle.components(legacy["new"])) == 2
    assert count(AuditLog, *priced) == audits


def test_board_counts_days_in_step_on_the_sao_paulo_calendar(cs_team, legacy, book, client, login_as):
    caio = cs_team["caio"]
    with time_machine.travel(at("2026-03-02 22:30"), tick=False):  # already 3 March in UTC
        start(book["pan"], legacy, caio)
        login_as(caio)
        board = client.get("/sucesso/migracoes/quadro").get_data(as_text=True)
    assert "0 dias na etapa" in board and "-1 dia" not in board
    with time_machine.travel(at("2026-03-03 20:00"), tick=False):
        assert "1 dia na etapa" in client.get("/sucesso/migracoes/quadro").get_data(as_text=True)


def test_board_and_plan_run_the_same_queries_for_one_or_many_migrations(cs_team, legacy, book, client, login_as):
    caio = cs_team["caio"]
    login_as(caio)

    def measure():
        db.session.expire_all()
        with _Queries() as board:
            assert client.get("/sucesso/migracoes/quadro").status_code == 200
        db.session.expire_all()
        with _Queries() as plan:
            assert client.get(f"/sucesso/migracoes/produtos/{legacy['old'].id}").status_code == 200
        return board.count, plan.count

    def finish(migration):
        for step in STEPS:
            playbooks.complete_step(migration, {"step": step, "owner_id": caio.id, "done_on": "2026-03-02",
                                                "new_entity_id": f"NEW-{migration.id}"}, caio)
        db.session.commit()

    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        finish(start(book["abc"], legacy, caio))
        one = measure()
        for key in ("alfa", "pan"):
            finish(start(book[key], legacy, caio))
        many = measure()
    assert many == one
