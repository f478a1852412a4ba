"""pt-BR names everywhere: one registry (automation.subjects) labels every event, field, record type and audit
action, and the pages that used to print keys (Réguas, Auditoria, template errors) read it."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.audit import audit
from portal.automation import subjects
from portal.automation.models import Rule
from portal.automation.rules import duration_text, save_rule
from portal.automation.templating import TemplateProblem, render
from portal.extensions import db
from tests.cs.conftest import make_account
from tests.factories import make_user

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# What a label must not look like: the key itself (snake_case, dotted) or nothing.
KEY_LIKE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
CAMEL = re.compile(r"^[A-Z][a-z]+[A-Z]\w*$")     # a class name ("NpsResponse")


def label_problems() -> list[str]:
    """Every entry of the registry whose pt-BR label is missing or is just a key."""
    found = []

    def check(where, key, label, same_ok=False):
        text = label.strip() if isinstance(label, str) else ""
        if not text or KEY_LIKE.match(text) or CAMEL.match(text) or (text == key and not same_ok):
            found.append(f"{where} {key!r}: {label!r}")

    for kind, subject in subjects.SUBJECTS.items():
        check("subject", kind, subject.label)
        for group in ("fields", "date_fields", "settable"):
            for path, label in getattr(subject, group).items():
                check(f"{kind}.{group}", path, label)
    for event_type, (_, label) in subjects.EVENT_TYPES.items():
        check("event", event_type, label)
    for event_type, payload in subjects.EVENT_FIELDS.items():
        for key, label in payload.items():
            check(f"event {event_type} field", key, label)
    for action, label in subjects.AUDIT_ACTIONS.items():
        check("audit action", action, label)
    for name, record in subjects.RECORD_TYPES.items():
        check("record type", name, record.label, same_ok=True)  # "Lead" is Portuguese too
        for key, label in record.fields.items():
            check(f"record {name} field", key, label)
    for key, label in subjects.DETAIL_LABELS.items():
        check("audit detail", key, label)
    return found


def audited_actions() -> set[str]:
    """Every audit action the code can write: literals in audit(...) / end_all_sessions(...) / `audit_action = "..."`,
    plus the families built at run time."""
    found = set()
    for path in PORTAL.rglob("*.py"):
        text = path.read_text()
        for call in re.finditer(r"\baudit\(([^,)]+)[,)]", text):
            found |= set(re.findall(r'"([a-z_]+(?:\.[a-z_]+)+)"', call.group(1)))
        found |= set(re.findall(r'\baudit_action\s*=\s*"([a-z_.]+)"', text))
        found |= set(re.findall(r'\bend_all_sessions\([^,()]+,\s*"([a-z_.]+)"', text))
    from portal.cs.settings import DEFAULTS
    from portal.personalize.services.appointments import OUTCOMES
    found |= {f"cs.settings.{section}" for section in DEFAULTS}           # cs.settings.save_section
    found |= set(OUTCOMES.values())                                       # appointments.record_outcome
    found |= {f"contract.{status}" for status in ("refused", "cancelled", "expired")}   # esign _close
    found |= {f"{what}.{how}" for what in ("channel", "media", "loss_reason", "custom_field")  # presales settings
              for how in ("created", "updated", "deactivated", "deleted")}
    return found


def test_every_registered_event_field_subject_and_audit_action_has_a_pt_br_label(app):
    assert len(subjects.AUDIT_ACTIONS) > 100 and "Account" in subjects.RECORD_TYPES
    assert label_problems() == []


def test_a_module_registering_an_action_without_a_label_is_caught(app, monkeypatch):
    monkeypatch.setattr(subjects, "AUDIT_ACTIONS", dict(subjects.AUDIT_ACTIONS))
    monkeypatch.setattr(subjects, "EVENT_TYPES", dict(subjects.EVENT_TYPES))
    subjects.register_audit_actions({"widget.created": ""})
    subjects.EVENT_TYPES["widget.moved"] = ("lead", "widget.moved")
    assert label_problems() == ["event 'widget.moved': 'widget.moved'", "audit action 'widget.created': ''"]


def test_every_action_the_code_audits_has_a_label(app):
    actions = audited_actions()
    assert {"rule.created", "account.phase_changed", "user.sessions_ended", "cs.settings.health"} <= actions
    assert sorted(actions - set(subjects.AUDIT_ACTIONS)) == []


def test_auditing_an_unregistered_action_is_logged(app, caplog):
    with caplog.at_level("WARNING", logger="portal.accounts.audit"):
        audit("widget.frobbed", object_type="Widget")
    db.session.rollback()
    assert "'widget.frobbed' has no pt-BR label" in caplog.text


# ---- template errors in Portuguese --------------------------------------------------------------------------

CONTEXT = {"empresa": "Portal", "contato": {"nome": "Ana", "email": "a@b.c", "telefone": "+55"},
           "lead": {"name": "Ana", "development": {"name": "Bosque"}}}


@pytest.mark.parametrize("source, expected", [
    ("Olá {{ contato.nomee }}!", ["{{ contato.nomee }} não existe", "Você quis dizer {{ contato.nome }}?",
                                  "contato.email, contato.nome, contato.telefone"]),
    ("{{ contatos.nome }}", ["{{ contatos }} não existe", "{{ contato }}", "contato, empresa, lead"]),
    ("{{ lead.development.nome }}", ["{{ lead.development.nome }} não existe", "lead.development.name"]),
    ("{% for x in [1] %}{{ x }}{% endfor %}{{ lead['nam'] }}", ["{{ lead.nam }} não existe", "lead.name"]),
])
def test_an_unknown_placeholder_is_named_in_portuguese_with_the_valid_ones(source, expected):
    with pytest.raises(TemplateProblem) as exc:
        render(source, CONTEXT)
    message = str(exc.value)
    for part in expected:
        assert part in message
    assert "dict object" not in message and "attribute" not in message


def test_a_filter_on_the_wrong_kind_of_value_is_explained_in_portuguese():
    with pytest.raises(TemplateProblem) as exc:
        render("Desde {{ contato.nome|data }}", CONTEXT)
    assert str(exc.value) == ("Erro ao montar a mensagem: uma expressão não vale para o valor do campo. "
                              "Confira os filtros: |data (datas).")
    with pytest.raises(TemplateProblem) as exc:
        render("{{ contato.__class__ }}", CONTEXT)
    assert "unsafe" not in str(exc.value) and "Uso não permitido no modelo" in str(exc.value)


def test_the_rule_editor_answers_a_wrong_placeholder_in_portuguese(client, login_as):
    login_as(make_user("admin"))
    r = client.post("/automacao/regras/nova", data={
        "name": "Boas-vindas", "active": "y", "subject_type": "lead", "trigger": "event", "event_type": "lead.created",
        "actions-0-type": "message", "actions-0-channel": "email", "actions-0-to": "contact",
        "actions-0-subject": "Olá", "actions-0-body": "Olá {{ contato.nomee }}, obrigado!"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "O campo {{ contato.nomee }} não existe. Você quis dizer {{ contato.nome }}?" in page
    assert "contato.email, contato.nome, contato.telefone" in page
    assert "dict object" not in page and "has no attribute" not in page
    assert db.session.execute(select(Rule)).first() is None


def test_the_rule_editor_lists_the_placeholders_of_the_record_and_event(client, login_as):
    login_as(make_user("admin"))
    page = client.get("/automacao/regras/nova?subject_type=lead&trigger=event&event_type=lead.scheduled") \
        .get_data(as_text=True)
    # a visible list without JS (code + label); the insert buttons appear only with JS
    assert "<code>{{ contato.nome }}</code> <span class=\"muted\">Contato: nome</span>" in page
    assert "<code>{{ lead.stage.name }}</code> <span class=\"muted\">Lead: Etapa</span>" in page
    assert "<code>{{ evento.kind }}</code>" in page and "Evento: Data agendada" in page
    assert 'data-placeholder="{{ lead.name }}" aria-label="Inserir Lead: Nome" hidden' in page


# ---- Réguas ----------------------------------------------------------------------------------------------------

def test_duration_text_uses_the_largest_exact_unit():
    assert duration_text(129_600) == "90 dias"
    assert duration_text(-1440) == "1 dia"
    assert duration_text(90) == "90 minutos"
    assert duration_text(120, business_hours=True) == "2 horas úteis"
    assert duration_text(60, business_hours=True) == "1 hora útil"
    assert duration_text(1440, business_hours=True) == "24 horas úteis"  # a business day is not 24 h


def test_the_rules_list_speaks_in_labels_not_keys(client, login_as):
    login_as(make_user("admin"))
    notify = [{"type": "notify", "to": "owner", "subject": "Aviso", "body": "Olá"}]
    save_rule({"name": "Atualizar potencial", "active": True, "trigger": "time", "subject_type": "account",
               "date_field": "potential_updated_at", "offset_amount": 90, "offset_unit": "days",
               "direction": "after", "repeat_every_days": 90, "actions": notify})
    save_rule({"name": "Lead sem resposta", "active": True, "trigger": "time", "subject_type": "lead",
               "date_field": "assigned_at", "offset_amount": 2, "offset_unit": "hours", "direction": "after",
               "business_hours": True, "actions": notify})
    save_rule({"name": "Cancelamento", "active": True, "trigger": "event", "subject_type": "appointment",
               "event_type": "appointment.cancelled", "actions": notify})
    save_rule({"name": "Resumo semanal", "active": True, "trigger": "schedule", "cron": "0 8 * * 1",
               "actions": [{"type": "message", "channel": "email", "to": "fixed", "address": "a@b.c",
                            "subject": "Resumo", "body": "Bom dia"}]})
    db.session.commit()
    page = client.get("/automacao/regras").get_data(as_text=True)
    assert "90 dias depois de “Potencial atualizado em”, repete a cada 90 dias" in page
    assert "2 horas úteis depois de “Atribuído em”" in page
    assert "Quando: Atendimento cancelado" in page and "Atendimento agendado" in page
    assert "Toda segunda-feira às 08:00" in page
    assert "Conta (sucesso do cliente)" in page
    for key in ("potential_updated_at", "appointment.cancelled", ">appointment<", "129.600", " min ", "<code>"):
        assert key not in page


# ---- Auditoria -------------------------------------------------------------------------------------------------

def test_the_audit_log_shows_labels_names_links_and_local_dates(client, login_as):
    admin = make_user("admin", name="Ana Admin")
    csm = make_user("csm", name="Caio CSM")
    with time_machine.travel(datetime(2026, 3, 10, 15, 30, tzinfo=timezone.utc), tick=False):
        account = make_account(csm=csm, user=admin, name="Viagens Andorinha Ltda")
        audit("account.phase_changed", account, user=admin, **{"from": "onboarding", "to": "adoption"})
        audit("account.risk_flagged", account, user=admin, reason="Diretor financeiro avalia concorrência")
        audit("account.updated", account, user=admin, fields=["touch_model", "renewal_br"])
        audit("account.reassigned", account, user=admin, from_csm_id=None, to_csm_id=csm.id)
        db.session.commit()
    login_as(admin)
    page = client.get("/admin/auditoria").get_data(as_text=True)
    page = page[page.index("<h1>Auditoria"):]   # the content, not the head's htmx config
    assert "Conta mudou de fase" in page and "Conta criada" in page and "CSM sinalizou risco de churn" in page
    assert f'<a href="/sucesso/contas/{account.id}">Conta (sucesso do cliente): Viagens Andorinha Ltda</a>' in page
    assert "Onboarding → Adoção" in page
    assert "Diretor financeiro avalia concorrência" in page                     # accents as written
    assert "Campos alterados:</span> Modelo de atendimento, Data de renovação" in page
    assert "CSM novo:</span> Caio CSM" in page
    assert "10/03/2026 12:30" in page                                           # São Paulo, not UTC
    for raw in ("account.phase_changed", "Account #", "\\u00", "2026-03-10", '{"', "onboarding →", "touch_model"):
        assert raw not in page


def test_the_audit_log_names_a_deleted_record_from_its_details(client, login_as):
    admin = make_user("admin")
    audit("holiday.deleted", object_type="Holiday", object_id=987654, user=admin, day="2026-11-20",
          name="Consciência Negra")
    db.session.commit()
    login_as(admin)
    page = client.get("/admin/auditoria").get_data(as_text=True)
    assert "Feriado removido" in page and "Feriado: Consciência Negra (excluído)" in page
    assert "Data:</span> 20/11/2026" in page and "Holiday" not in page


def test_an_export_s_filters_read_as_labels_and_names(client, login_as):
    from portal.presales.models import Pipeline, Stage
    admin = make_user("admin")
    broker = make_user("broker", name="Bruna Corretora")
    pipeline = Pipeline(name="Funil padrão")
    db.session.add(pipeline)
    db.session.flush()
    stage = Stage(pipeline_id=pipeline.id, name="Proposta", position=1)
    db.session.add(stage)
    db.session.flush()
    audit("lead.exported", object_type="Lead", user=admin, count=12,
          filters={"stage": stage.id, "owner": broker.id, "status": "open", "q": "silva"})
    db.session.commit()
    login_as(admin)
    page = client.get("/admin/auditoria").get_data(as_text=True)
    page = page[page.index("<h1>Auditoria"):]
    assert "Etapa:</span> Proposta" in page and "Responsável:</span> Bruna Corretora" in page
    assert "Situação:</span> Em aberto" in page and "Busca:</span> silva" in page
    for raw in ("Stage", "Owner", "open", f"Etapa:</span> {stage.id}"):
        assert raw not in page
