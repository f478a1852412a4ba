"""Accounts as rule subjects, the events customer success publishes, and its periodic jobs."""
from portal.automation.subjects import Contact, SubjectType, register_event, register_subject
from portal.cs.models import Account


def _contact(account: Account) -> Contact:
    person = account.main_contact
    if person is None:
        return Contact(name=account.name)
    return Contact(name=person.name, email=person.email, phone=person.phone)


register_subject(SubjectType(
    kind="account", model=Account, label="Conta (sucesso do cliente)",
    link_fields=("nps_link",),
    fields={"name": "Nome", "cnpj": "CNPJ", "segment": "Segmento (código: enterprise, smb)",
            "segment_label": "Segmento", "touch_model": "Modelo de atendimento (código: high, mid, tech)",
            "touch_model_label": "Modelo de atendimento",
            "phase": "Fase (código: onboarding, adoption, ongoing, renewal)", "phase_label": "Fase",
            "employees": "Colaboradores", "mrr_cents": "MRR (centavos)", "mrr_br": "MRR",
            "products_count": "Quantidade de produtos", "from_competitor": "Veio de concorrente",
            "contact_points": "Pontos de contato", "csm.name": "CSM", "csm.email": "E-mail do CSM",
            "health_score": "Nota de saúde", "health_grade": "Saúde (código: green, yellow, red)",
            "grade_label": "Saúde", "health_change_7d": "Variação da nota em 7 dias",
            "engagement_score": "Engajamento em funcionalidades-chave (0–100)",
            "usage_wow_pct": "Uso: variação semana a semana (%)", "risk_flag": "Risco sinalizado pelo CSM",
            "at_risk": "Em risco de churn", "days_overdue": "Dias em atraso", "open_tickets": "Chamados abertos",
            "last_nps": "Último NPS", "renewal_br": "Data de renovação", "next_follow_up_br": "Próximo follow-up",
            "next_rts_br": "Próxima reunião de resultados", "phase_due_br": "Prazo previsto da fase",
            "potential_br": "Potencial de expansão",
            "parallel_end_br": "Migração de produto: fim do período paralelo",
            "nps_link": "Link da pesquisa NPS (único por envio, responde sem login)",
            "nps_days_since_survey": "Dias desde a última pesquisa NPS (sem pesquisa: desde o início do contrato)"},
    date_fields={"created_at": "Criada em", "phase_started_at": "Entrou na fase em",
                 "phase_due_at": "Prazo previsto da fase", "renewal_at": "Data de renovação",
                 "next_follow_up_at": "Próximo follow-up", "next_visit_at": "Próxima visita",
                 "next_rts_at": "Próxima reunião de resultados (RTS)", "last_touchpoint_at": "Último ponto de contato",
                 "potential_updated_at": "Potencial atualizado em",
                 "weekly_at": "Toda segunda-feira, 00:00 (use com “repetir a cada N dias”)",
                 "parallel_end_at": "Migração de produto: fim do período paralelo (legado ainda ligado)",
                 "churn_risk_since": "Em risco de churn desde"},
    settable={"touch_model": "Modelo de atendimento"},
    contact=_contact,
    owner=lambda account: account.csm,
    url=lambda account: f"/sucesso/contas/{account.id}",
    title=lambda account: account.name,
))


def _move(what: str, codes: str) -> dict[str, str]:
    return {"from": f"{what} anterior (código: {codes})", "to": f"{what} nova (código: {codes})",
            "de": f"{what} anterior", "para": f"{what} nova"}


PHASE_CODES, GRADE_CODES = "onboarding, adoption, ongoing, renewal", "green, yellow, red"
# (type, label, payload keys the publisher sends → label, record fields whose value at the event is in the payload).
# The worker may handle an event after the account moved on: a phase alert must speak of the phase it was about.
EVENTS = [
    ("account.created", "Conta criada", {}, {}),
    ("account.updated", "Conta atualizada", {"campos": "Campos alterados"}, {}),
    ("account.phase_changed", "Conta mudou de fase",
     {**_move("Fase", PHASE_CODES), "prazo": "Prazo previsto da nova fase"},
     {"phase": "to", "phase_label": "para", "phase_due_br": "prazo"}),
    ("account.segment_changed", "Conta mudou de segmento", _move("Segmento", "enterprise, smb"),
     {"segment": "to", "segment_label": "para"}),
    ("account.touchpoint_logged", "Ponto de contato registrado", {"tipo": "Tipo do contato", "resumo": "Resumo"}, {}),
    ("account.onboarding_step", "Etapa de onboarding concluída", {"etapa": "Etapa"}, {}),
    ("account.risk_flagged", "CSM sinalizou risco de churn", {"motivo": "Motivo"}, {}),
    ("account.risk_cleared", "CSM retirou o risco", {"motivo": "Motivo"}, {}),
    ("account.grade_changed", "Saúde mudou de cor", {**_move("Saúde", GRADE_CODES), "nota": "Nota de saúde"},
     {"health_grade": "to", "grade_label": "para", "health_score": "nota"}),
    ("account.nps_answered", "Cliente respondeu a pesquisa NPS",
     {"score": "Nota NPS (0–10)", "category": "Categoria (código: promoter, passive, detractor)"}, {}),
    ("account.reassigned", "Conta mudou de CSM", {"de": "CSM anterior", "para": "CSM novo"}, {}),
    ("account.mrr_expanded", "MRR da conta expandiu",
     {"mrr_anterior": "MRR anterior", "mrr_novo": "MRR novo", "expansao": "Expansão"}, {}),
    ("account.migration_started", "Migração de produto iniciada", {"produto": "Produto", "sucessor": "Sucessor"}, {}),
    ("account.migration_step", "Etapa da migração concluída",
     {"etapa": "Etapa", "responsavel": "Responsável", "data": "Data", "produto": "Produto"}, {}),
    ("account.migration_finished", "Migração de produto concluída (legado desligado)",
     {"produto": "Produto", "sucessor": "Sucessor"}, {}),
]
for event_type, label, payload, state in EVENTS:
    register_event(event_type, "account", label, payload, state)

from portal.cs import nps_models  # noqa: E402,F401  (NPS and churn tables)
from portal.cs import reports  # noqa: E402,F401  (the weekly at-risk report)
from portal.cs import jobs  # noqa: E402,F401  (registers the nightly health recompute)
from portal.cs import playbook_models  # noqa: E402,F401  (product-migration playbooks)
from portal.cs import openapi  # noqa: E402,F401  (POST /api/v1/cs/usage in the app's OpenAPI document)
from portal.cs import audit_labels  # noqa: E402,F401  (pt-BR names of its audit actions)
